"""Building blocks shared by the generative augmentation methods: losses and training helpers."""
