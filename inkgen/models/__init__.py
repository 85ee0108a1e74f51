"""Models of the study: the curation classifier (eq. 1) and, later, the VQGAN, text and CLIP models."""
