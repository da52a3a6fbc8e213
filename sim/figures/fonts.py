"""CJK font detection and the language a figure set is drawn in (zh falls back to en without a CJK font)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from sim.errors import SimError

__all__ = ["CJK_FAMILIES", "INSTALL_HINT", "LANGS", "Language", "choose_language", "find_cjk_font"]

LANGS = ("zh", "en")

#: Preferred CJK families, best first (sans before serif: figures use sans-serif text).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Sarasa Gothic SC",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "SimSun",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)

INSTALL_HINT = (
    "install one, e.g. `apt-get install fonts-noto-cjk` (Debian/Ubuntu), "
    "`dnf install google-noto-sans-cjk-fonts` (Fedora), `brew install --cask font-noto-sans-cjk` (macOS)"
)

_FILE_PATTERN = re.compile(
    r"cjk|wqy|wenquanyi|sourcehan|source-han|simhei|simsun|msyh|pingfang|droidsansfallback|"
    r"notosanssc|sarasa|uming|ukai",
    re.IGNORECASE,
)


@cache
def find_cjk_font() -> str | None:
    """Family name of an installed font with Chinese glyphs, or None.

    Looks in matplotlib's font list, then registers CJK-looking system font files that a stale
    matplotlib font cache does not know about yet (e.g. installed after matplotlib first ran).
    """
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    for path in font_manager.findSystemFonts():
        if _FILE_PATTERN.search(path):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in known:
            return family
    return next((name for name in sorted(known) if "CJK" in name or "Hei" in name), None)


@dataclass(frozen=True)
class Language:
    """The language figures are drawn in.

    Attributes:
        lang: "zh" or "en" (what is actually drawn).
        font: CJK font family used for zh, None for en.
        note: why the requested language was not used ("" when it was).
    """

    lang: str
    font: str | None = None
    note: str = ""


_DETECT = "detect"


def choose_language(lang: str, *, font: str | None = _DETECT) -> Language:
    """The language to draw in: ``lang`` if it can be drawn, else English with a note.

    Args:
        lang: requested language, "zh" or "en".
        font: CJK font family to use for zh; by default the one ``find_cjk_font`` finds; None
            means "no CJK font available" (forces the English fallback).

    Raises:
        SimError: ``lang`` is not one of zh, en.
    """
    if lang not in LANGS:
        raise SimError(f"unknown language {lang!r}; expected one of: {', '.join(LANGS)}")
    if lang == "en":
        return Language("en")
    family = find_cjk_font() if font == _DETECT else font
    if family is None:
        return Language(
            "en",
            note="no CJK font found, so Chinese labels cannot be drawn; falling back to English "
            f"({INSTALL_HINT})",
        )
    return Language("zh", font=family)
