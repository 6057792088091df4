"""Emotion classifiers: ``svm`` on band DE, ``esc-cnn`` on DE grids, ``eegnet`` on raw windows,
``sa-st-net`` on raw 1-s frames over the electrode grid.

Importing this package registers them in :data:`bench.registry.CLASSIFIERS`. torch and
scikit-learn are imported only when a classifier is built or fitted, so listing the components
stays instant. Torch classifiers share one training loop, :mod:`bench.classifiers.torch_training`.
"""

from bench.classifiers import eegnet, esc_cnn, sa_st_net, svm

__all__ = ["eegnet", "esc_cnn", "sa_st_net", "svm"]
