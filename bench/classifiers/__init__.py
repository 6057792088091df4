"""Emotion classifiers: ``svm`` on band DE, ``esc-cnn`` and ``ccnn`` on DE grids, ``dgcnn`` on per-channel
band DE over a learnt electrode graph, ``eegnet`` and ``tsception`` on raw windows, ``sa-st-net`` on raw
1-s frames over the electrode grid.

Importing this package registers them in :data:`bench.registry.CLASSIFIERS`. torch and
scikit-learn are imported only when a classifier is built or fitted, so listing the components
stays instant. Torch classifiers share one training loop, :mod:`bench.classifiers.torch_training`.
"""

from bench.classifiers import ccnn, dgcnn, eegnet, esc_cnn, sa_st_net, svm, tsception

__all__ = ["ccnn", "dgcnn", "eegnet", "esc_cnn", "sa_st_net", "svm", "tsception"]
