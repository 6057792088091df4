"""Emotion classifiers: ``svm`` on band DE, ``esc-cnn`` and ``ccnn`` on DE grids, ``dgcnn`` on per-channel
band DE over a learnt electrode graph, ``eegnet`` and ``tsception`` on raw windows, ``sa-st-net`` on raw
1-s frames over the electrode grid.

Importing this package registers them in :data:`bench.registry.CLASSIFIERS`. torch and
scikit-learn are imported only when a classifier is built or fitted, so listing the components
stays instant. Torch classifiers share one training loop, :mod:`bench.classifiers.torch_training`.
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):  # a module here registers itself on import: no list to edit
    importlib.import_module(f"{__name__}.{_module.name}")
