"""bench: an honest benchmark harness for EEG data augmentation in emotion recognition."""

__version__ = "0.1.0"
