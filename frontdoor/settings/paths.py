"""Where frontdoor reads and writes, relative to the project root unless absolute."""

from pathlib import Path

from frontdoor.settings.section import Section


class PathSettings(Section):
    root: Path | None = None  # None: the folder holding pyproject.toml, else the working directory
    data: Path = Path("data")
    synthetic: Path = Path("data/synthetic")  # what `frontdoor synth` writes (raw, identifiable)
    canonical: Path = Path("data/canonical")  # pseudonymised canonical tables written by ingest
    quarantine: Path = Path("data/quarantine")
    truth: Path = Path("data/truth")  # synthetic ground truth, pseudonymised; models never read it
    features: Path = Path("data/features")
    scores: Path = Path("data/scores")
    reports: Path = Path("data/reports")
    # Restricted circulation (the governance board's audit with every figure, small numbers
    # included): never under ``reports``, which every reports reader can list.
    restricted: Path = Path("data/restricted")
    monitoring: Path = Path("data/monitoring")
    keys: Path = Path(".frontdoor/keys")
