"""CoLA 1.1, the Corpus of Linguistic Acceptability (Warstadt, Singh & Bowman 2019; source chapter §4.2.10).

A preset of the generic classification layer (``conf/data/cola.yaml``); this module only finds the files. The
raw release (not GLUE's repackaging): ``in_domain_train.tsv`` (8,551 rows), ``in_domain_dev.tsv`` (527) and
``out_of_domain_dev.tsv`` (516); 4 tab-separated columns without a header: source code, label (1 acceptable,
0 unacceptable), the original author's mark, sentence. Sentences contain quotes, so quoting is off.
Validation = in-domain dev; test = out-of-domain dev (the split of the chapter's confusion matrices and its
0.572 / 0.041 MCC). Files are looked up as ``<data_dir>/cola/<name>``, else extracted from the official zip
after checking its sha256.
"""

from __future__ import annotations

from pathlib import Path

from bertlab.data import files

ARCHIVE = files.RemoteArchive(
    "https://nyu-mll.github.io/CoLA/cola_public_1.1.zip",
    "2cf856f46df11c143d38e0cf2f9f34ff2fdb088c521cd859f5c4b9581683278b",
)
_SHA256 = {
    "in_domain_train.tsv": "f320a10f92d3bce6b29152fde322a362eac39238e50d8de0c8815457fdf4fc12",
    "in_domain_dev.tsv": "77176f6a03faa5a1c4f23c69971fc1bff565931112fb65af47b2d6e24b7f42f7",
    "out_of_domain_dev.tsv": "201b9c57b2a20f1282242eec0ed8995729e3be19c29a46c047b3727338836c05",
}
MEMBER_DIR = "cola_public/raw"
MEMBERS = {
    f"{MEMBER_DIR}/{name}": files.RemoteFile("cola", name, ARCHIVE.url, sha) for name, sha in _SHA256.items()
}


def fetch(data_dir: str | Path, download: bool = True) -> dict[str, Path]:
    """Make sure ``<data_dir>/cola/*.tsv`` exist (extracting them from the verified zip); their paths."""
    return files.resolve_zip_members(ARCHIVE, MEMBERS, data_dir, download=download)
