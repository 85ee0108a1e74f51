"""Where the collect stage reads from, besides the procedural renderer.

* :mod:`.http` - the polite, cached, retrying HTTP client the museum sources share;
* :mod:`.base` - the source interface and the museum item flow;
* :mod:`.rules` - what a museum item must be to be kept (``inkgen/data/museum_rules.yaml``), URL checks;
* :mod:`.dating` - years (B.C. included), display dates and periods from the museum's dating and years;
* :mod:`.met`, :mod:`.cleveland`, :mod:`.aic` - the three museums' open-access APIs;
* :mod:`.folder` - a user's own folder of images with an optional metadata CSV.
"""

from inkgen.data.sources.aic import AicSource
from inkgen.data.sources.base import MuseumSource, Source, SourceError, SourceStats, make_client
from inkgen.data.sources.cleveland import ClevelandSource
from inkgen.data.sources.folder import FolderMetadataError, FolderSource
from inkgen.data.sources.http import FetchError, HttpClient
from inkgen.data.sources.met import MetSource

MUSEUMS: dict[str, type[MuseumSource]] = {"met": MetSource, "cleveland": ClevelandSource, "aic": AicSource}

__all__ = ["AicSource", "ClevelandSource", "FetchError", "FolderMetadataError", "FolderSource", "HttpClient",
           "MUSEUMS", "MetSource", "MuseumSource", "Source", "SourceError", "SourceStats", "make_client"]
