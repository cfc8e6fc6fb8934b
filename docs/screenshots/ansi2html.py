#!/usr/bin/env python3
"""Turns a terminal capture with SGR colours (tmux capture-pane -e -p) into
an HTML page that looks like a terminal: one cell per character, wide
characters two cells, faint text faint, and the half and full blocks of
QR codes painted as backgrounds so that they tile without seams. Cells
are boxes of 9 x 18 px (DejaVu Sans Mono at 15.46 px is 18 px high), so
the grid holds whatever the font's advance rounds to.
Standard library only. Usage: ansi2html.py < capture.ans > page.html"""

import html
import re
import sys
import unicodedata

BG, FG = "#1e1e2e", "#cdd6f4"
PALETTE = [  # the 16 ANSI colours (a dark theme)
    "#11111b", "#f38ba8", "#a6e3a1", "#f9e2af", "#89b4fa", "#f5c2e7", "#94e2d5", "#bac2de",
    "#585b70", "#f38ba8", "#a6e3a1", "#f9e2af", "#89b4fa", "#f5c2e7", "#94e2d5", "#ffffff",
]


def color256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (v, v, v)


class Pen:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = None
        self.bold = self.faint = self.italic = self.under = self.reverse = False

    def sgr(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.faint = True
            elif c == 3:
                self.italic = True
            elif c == 4:
                self.under = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.faint = False
            elif c == 23:
                self.italic = False
            elif c == 24:
                self.under = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = PALETTE[c - 30]
            elif c == 39:
                self.fg = None
            elif 40 <= c <= 47:
                self.bg = PALETTE[c - 40]
            elif c == 49:
                self.bg = None
            elif 90 <= c <= 97:
                self.fg = PALETTE[c - 90 + 8]
            elif 100 <= c <= 107:
                self.bg = PALETTE[c - 100 + 8]
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    col = color256(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    col = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
                    i += 4
                else:
                    col = None
                if c == 38:
                    self.fg = col
                else:
                    self.bg = col
            i += 1

    def style(self):
        fg, bg = self.fg or FG, self.bg
        if self.reverse:
            fg, bg = (self.bg or BG), (self.fg or FG)
        out = ["color:" + fg]
        if bg:
            out.append("background:" + bg)
        if self.bold:
            out.append("font-weight:bold")
        if self.faint:
            out.append("opacity:0.55")
        if self.italic:
            out.append("font-style:italic")
        if self.under:
            out.append("text-decoration:underline")
        return ";".join(out)


BLOCKS = {"█": (True, True), "▀": (True, False), "▄": (False, True)}


def block(ch, pen):
    """A block character as a cell-sized box: top and bottom halves."""
    fg, bg = pen.fg or FG, pen.bg or BG
    if pen.reverse:
        fg, bg = bg, fg
    top, bottom = BLOCKS[ch]
    return '<span class="b" style="background:linear-gradient(%s 50%%, %s 50%%)"></span>' % (
        fg if top else bg, fg if bottom else bg)


def cells(ch):
    if unicodedata.east_asian_width(ch) in "WF":
        return 2
    return 1


def convert(text):
    pen = Pen()
    rows = []
    for line in text.rstrip("\n").split("\n"):
        out = []
        for token in re.split(r"(\x1b\[[0-9;]*[A-Za-z])", line):
            if token.startswith("\x1b["):
                if token.endswith("m"):
                    pen.sgr(token[2:-1])
                continue
            style = pen.style()
            for ch in token:  # every cell its own box: the grid holds whatever the font does
                if ch in BLOCKS:
                    out.append(block(ch, pen))
                elif cells(ch) == 2:
                    out.append('<span class="w" style="%s">%s</span>' % (style, html.escape(ch)))
                else:
                    out.append('<span class="c" style="%s">%s</span>' % (style, html.escape(ch)))
        rows.append("".join(out))
    body = "".join('<div class="r">%s</div>' % r for r in rows)
    return """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
html, body { margin: 0; background: %s; }
.t { padding: 14px 16px; font-family: "DejaVu Sans Mono", monospace; font-size: 15.46px;
     line-height: 18px; color: %s; white-space: pre; }
.r { height: 18px; overflow: hidden; }
.c, .b, .w { display: inline-block; width: 9px; height: 18px; vertical-align: top; overflow: visible; }
.w { width: 18px; text-align: center; font-family: "Noto Color Emoji", "Symbola", monospace; font-size: 13px; }
</style></head><body><div class="t">
%s
</div></body></html>
""" % (BG, FG, body)


if __name__ == "__main__":
    sys.stdout.write(convert(sys.stdin.read()))
