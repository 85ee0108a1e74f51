"""One module per DVC stage, named as the stage (dvc.yaml), each exposing ``run(params, root, ...)`` that its
notebook calls. No stage module imports another: what two stages share lives below, in the library.
(``judge`` is the clip stage's second role: notebook 04_clip with ``role=judge`` calls :func:`clip.run`.)"""
