"""Augmentation methods, one module each; importing the package registers them all.

Every method subclasses :class:`bench.components.Method`, registers itself in
:data:`bench.registry.METHODS` under its canonical name, and learns from the training fold only:

============================ =====================================================================
name                         module
============================ =====================================================================
none                         :mod:`methods.none` (no augmentation, the baseline)
smote, adasyn,               :mod:`methods.oversampling` (the SMOTE family, via imbalanced-learn)
borderline-smote
rose                         :mod:`methods.rose` (smoothed bootstrap, via imbalanced-learn)
noise                        :mod:`methods.noise` (Gaussian noise scaled to each feature's std)
mixup                        :mod:`methods.mixup` (convex combinations of two real windows)
escgan                       :mod:`methods.escgan` (ESC-GAN: EEG editing on DE grids; networks and
                             losses in :mod:`methods.gan`)
de3dgan                      :mod:`methods.de3dgan` (DE-3DGAN: raw-grid frames from DE videos with a
                             3-D U-Net, WGAN-GP)
cgan                         :mod:`methods.cgan` (conditional DCGAN, non-saturating loss)
wgan-gp                      :mod:`methods.wgan_gp` (conditional WGAN with gradient penalty, Luo and Lu's
                             cWGAN)
vae                          :mod:`methods.vae` (conditional VAE, beta configurable, prior samples per
                             class)
ddpm                         :mod:`methods.ddpm` (conditional DDPM, cosine schedule, classifier-free
                             guidance, DDIM steps)
============================ =====================================================================

The four baseline generators (``cgan``, ``wgan-gp``, ``vae``, ``ddpm``) model ``raw`` windows with
1-D convolutions over time or ``de-grid`` windows with 2-D convolutions over the grid, as their
config's ``representation`` says; their shared parts (backbones, training loop, fit/sample
bookkeeping) are in :mod:`methods.gan`.

bench/testing's contract suite runs on every registered method; docs/adding-a-method.md says how to add one
(a module here registers itself when the package imports it: no list to edit).
"""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
