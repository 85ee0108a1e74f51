"""The expert evaluation kit of the paper's Table 2 (section 3.2): its settings (``config``), a blinded rating
package (``package``), reading the raters' filled sheets and the key (``sheets``), and the analysis --
weighted sub-semantic scores, Krippendorff's alpha, Kendall's W, generated vs authentic (``analysis``)."""

# No re-exports: ``inkgen.config`` reads ``config`` to validate params.yaml, and must not import scipy and
# pandas (``analysis``) for it.
