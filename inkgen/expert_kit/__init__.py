"""The expert evaluation kit of the paper's Table 2 (section 3.2): a blinded rating package
(``package``), reading the raters' filled sheets and the key (``sheets``), and the analysis -- weighted
sub-semantic scores, Krippendorff's alpha, Kendall's W, generated vs authentic (``analysis``)."""

from inkgen.expert_kit.analysis import (TOTAL, ExpertSummary, OriginComparison, compare_origins, item_scores,
                                        kendalls_w, krippendorff_alpha, reliability_matrix, summarize)
from inkgen.expert_kit.package import ExpertKitError, KitConfig, Package, Work, build_package
from inkgen.expert_kit.sheets import read_key, read_sheet, read_sheets, template_ids

__all__ = ["TOTAL", "ExpertKitError", "ExpertSummary", "KitConfig", "OriginComparison", "Package", "Work",
           "build_package", "compare_origins", "item_scores", "kendalls_w", "krippendorff_alpha", "read_key",
           "read_sheet", "read_sheets", "reliability_matrix", "summarize", "template_ids"]
