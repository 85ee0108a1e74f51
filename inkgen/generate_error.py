"""The error of text -> image generation, importable without torch: the CLI's gate raises it before the
generator (and torch) is loaded (:mod:`inkgen.forked_generator`)."""


class GenerateError(ValueError):
    """An input, checkpoint or model combination that generation cannot use; the message says why."""
