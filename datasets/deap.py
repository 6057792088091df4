"""DEAP ``data_preprocessed_python``: Python-2 pickles of 40 trials x 40 channels x 8064 samples.

Koelstra et al., "DEAP: A Database for Emotion Analysis Using Physiological Signals",
IEEE Trans. Affective Computing 3(1), 2012.
"""

from __future__ import annotations

import io
import pickle
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import DataFormatError, UnsafePickleError
from bench.registry import DATASETS
from datasets.base import DatasetInfo, FileDataset, ReaderConfig
from datasets.recording import Recording

CH_NAMES = (
    "FP1", "AF3", "F3", "F7", "FC5", "FC1", "C3", "T7", "CP5", "CP1", "P3", "P7", "PO3", "O1", "OZ", "PZ",
    "FP2", "AF4", "FZ", "F4", "F8", "FC6", "FC2", "CZ", "C4", "T8", "CP6", "CP2", "P4", "P8", "PO4", "O2",
)
N_FILE_CHANNELS = 40  # 32 EEG + hEOG, vEOG, zEMG, tEMG, GSR, respiration, plethysmograph, temperature
RATING_NAMES = ("valence", "arousal", "dominance", "liking")
SFREQ = 128.0
BASELINE_S = 3.0
FILE_NAME = re.compile(r"^s(\d\d)\.dat$")

# The only globals a DEAP pickle (numpy arrays pickled by Python 2) refers to.
_reconstruct = np.zeros(1).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves nothing but numpy's array and dtype reconstructors."""

    def __init__(self, file: io.BufferedIOBase, source: Path) -> None:
        super().__init__(file, encoding="latin1")  # Python-2 str payloads hold raw array bytes
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refused to unpickle: the file asks for {module}.{name}, but a DEAP "
                ".dat file holds only numpy arrays. Nothing was executed. Replace the file with the "
                "original from the DEAP download."
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"{self.source}: refused to unpickle: the file uses persistent ids, which a DEAP .dat "
            "file never does. Replace the file with the original from the DEAP download."
        )


def read_dat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one DEAP ``sNN.dat`` file safely.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    data : ndarray, shape (n_trials, 40, n_samples), float64
    labels : ndarray, shape (n_trials, 4), float64
        Valence, arousal, dominance, liking on 1-9.

    Raises
    ------
    UnsafePickleError
        The pickle refers to anything but numpy's array reconstructors.
    DataFormatError
        The file is truncated, not a pickle, or its arrays have the wrong keys or shapes.
    """
    try:
        with open(path, "rb") as f:
            obj = _NumpyOnlyUnpickler(f, path).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, struct.error, IndexError) as e:
        raise DataFormatError(
            f"{path}: not a readable DEAP pickle ({type(e).__name__}: {e}); the file is truncated or "
            "corrupt. Replace it with the original from the DEAP download."
        ) from e
    if not isinstance(obj, dict) or not {"data", "labels"} <= set(obj):
        keys = sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__
        raise DataFormatError(f"{path}: expected a dict with keys 'data' and 'labels', got {keys}")
    data, labels = obj["data"], obj["labels"]
    if not (isinstance(data, np.ndarray) and data.ndim == 3 and data.shape[1] == N_FILE_CHANNELS):
        shape = getattr(data, "shape", type(data).__name__)
        raise DataFormatError(
            f"{path}: 'data' must be an array (trials, {N_FILE_CHANNELS} channels, samples), got {shape}"
        )
    if not (isinstance(labels, np.ndarray) and labels.shape == (data.shape[0], len(RATING_NAMES))):
        shape = getattr(labels, "shape", type(labels).__name__)
        raise DataFormatError(
            f"{path}: 'labels' must be an array ({data.shape[0]} trials, 4 ratings), got {shape}"
        )
    baseline = int(BASELINE_S * SFREQ)
    if data.shape[2] <= baseline:
        raise DataFormatError(
            f"{path}: trials have {data.shape[2]} samples; DEAP trials start with a "
            f"{BASELINE_S:g}-s baseline ({baseline} samples) and need stimulus samples after it"
        )
    bad = np.argwhere(~np.isfinite(labels))
    if bad.size:
        t, c = bad[0]
        raise DataFormatError(
            f"{path}: rating {RATING_NAMES[c]!r} of trial {t + 1} is {labels[t, c]}; labels must be "
            "finite (bench never invents labels). Fix or remove the file."
        )
    return data, labels


def write_dat(path: Path, data: np.ndarray, labels: np.ndarray) -> None:
    """Write arrays as DEAP does: a protocol-2 pickle made by Python 2 and numpy.

    The array bytes are Python-2 ``str`` objects, so the file loads only with
    ``encoding='latin1'``, exactly like the real files.

    Parameters
    ----------
    path : Path
        Destination, e.g. ``.../data_preprocessed_python/s01.dat``.
    data : ndarray, shape (n_trials, 40, n_samples)
        Stored as float64.
    labels : ndarray, shape (n_trials, 4)
        Stored as float64.
    """
    out = bytearray(b"\x80\x02}(")  # PROTO 2, EMPTY_DICT, MARK
    for key, value in (("labels", labels), ("data", data)):
        out += _py2_str(key.encode("ascii"))
        out += _py2_array(np.ascontiguousarray(value, dtype="<f8"))
    out += b"u."  # SETITEMS, STOP
    path.write_bytes(bytes(out))


def _py2_str(raw: bytes) -> bytes:
    if len(raw) < 256:
        return b"U" + bytes([len(raw)]) + raw  # SHORT_BINSTRING
    return b"T" + struct.pack("<I", len(raw)) + raw  # BINSTRING


def _py2_int(v: int) -> bytes:
    return b"K" + bytes([v]) if 0 <= v < 256 else b"J" + struct.pack("<i", v)


def _py2_array(a: np.ndarray) -> bytes:
    """Opcodes numpy 1.x on Python 2 emits for ``pickle.dumps(a, 2)``."""
    shape = b"(" + b"".join(_py2_int(n) for n in a.shape) + b"t"
    dtype = (
        b"cnumpy\ndtype\n" + _py2_str(b"f8") + b"K\x00K\x01\x87R"
        + b"(K\x03" + _py2_str(b"<") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
    )
    return (
        b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
        + b"K\x00\x85" + _py2_str(b"b") + b"\x87R"
        + b"(K\x01" + shape + dtype + b"\x89" + _py2_str(a.tobytes()) + b"tb"
    )


@dataclass(frozen=True)
class DeapConfig(ReaderConfig):
    """Reader options for DEAP: only the shared ``nan_policy``."""


@DATASETS.register("deap")
class Deap(FileDataset):
    """DEAP: 32 subjects x 40 music videos, 32 EEG channels at 128 Hz, 3-s baseline, 1-9 ratings.

    Reads ``data_preprocessed_python/sNN.dat`` (only names matching ``s\\d\\d.dat``), keeps the
    32 EEG channels in the file's (Geneva) order and all four ratings. The 3-s pre-trial
    baseline stays in each trial; segmentation handles it.

    Notes
    -----
    Deviations from the TorchEEG reader: only ``sNN.dat`` names are read (TorchEEG feeds every
    folder entry, ``.DS_Store`` included, to the unpickler); unpickling is restricted to numpy
    arrays; NaN ratings are an error instead of random labels.
    """

    info = DatasetInfo(
        sfreq=SFREQ, ch_names=CH_NAMES, tasks=("valence", "arousal", "quadrant"), grid="deap",
        baseline_s=BASELINE_S, rating_names=RATING_NAMES,
    )
    layout = "  DIR/deap/data_preprocessed_python/s01.dat ... s32.dat"
    obtain = (
        "DEAP is licensed and never downloaded by bench: sign the EULA at "
        "https://www.eecs.qmul.ac.uk/mmv/datasets/deap/ and download 'data_preprocessed_python'."
    )

    def __init__(self, config: DeapConfig | None = None) -> None:
        self.config = config or DeapConfig()

    subfolders = ("data_preprocessed_python",)

    def files_in(self, folder: Path) -> list[Path]:
        return sorted(p for p in folder.iterdir() if FILE_NAME.match(p.name) and p.is_file())

    def read_file(self, path: Path) -> Recording:
        match = FILE_NAME.match(path.name)
        if not match:
            raise DataFormatError(f"{path}: DEAP files are named sNN.dat (e.g. s01.dat)")
        data, labels = read_dat(path)
        trials = [x[: len(CH_NAMES)].astype(np.float32) for x in data]
        return self.file_recording(path, trials, labels, list(range(1, len(trials) + 1)), int(match.group(1)))
