"""Augmentation methods, one module each; importing the package registers them all.

Every method subclasses :class:`bench.components.Method`, registers itself in
:data:`bench.registry.METHODS` under its canonical name, and learns from the training fold only:

============================ =====================================================================
name                         module
============================ =====================================================================
none                         :mod:`methods.none` (no augmentation, the baseline)
smote, adasyn,               :mod:`methods.oversampling` (the SMOTE family, via imbalanced-learn)
borderline-smote
noise                        :mod:`methods.noise` (Gaussian noise scaled to each feature's std)
mixup                        :mod:`methods.mixup` (convex combinations of two real windows)
escgan                       :mod:`methods.escgan` (ESC-GAN: EEG editing on DE grids; networks and
                             losses in :mod:`methods.gan`)
de3dgan                      :mod:`methods.de3dgan` (DE-3DGAN: raw-grid frames from DE videos with a
                             3-D U-Net, WGAN-GP)
============================ =====================================================================
"""

from methods import de3dgan, escgan, mixup, noise, none, oversampling

__all__ = ["de3dgan", "escgan", "mixup", "noise", "none", "oversampling"]
