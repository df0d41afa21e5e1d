"""Source page → RDF graph: the cell, its entries, the documents and bodies they cite, its bite, provenance.

Pure: no I/O. The layout of a page (see ``data/sources/``): page furniture, the title line
("Alcohol Matrix cell E4: Treatment systems; Psychosocial therapies"), one line per entry
("K Headline (2012). Summary …"), more furniture, then the Matrix Bite (the cell's commentary) between a
"Matrix Bite Open …" line and a final "Close Matrix Bite …" line. The data model is ``docs/model.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from rdflib import RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV

from matrixkg.errors import SourceError
from matrixkg.iris import CATEGORIES, DOCO, FABIO, MKG, OA, PREFIXES, SCHEMA, Minter, slugify
from matrixkg.sources import SourcePage

# --- the page's fixed vocabulary -----------------------------------------------------------------------

_TITLE = re.compile(
    r"^(?P<matrix>Alcohol|Drug) Matrix cell (?P<cell>[A-E][1-5]): (?P<column>[^;]+); (?P<row>.+)$"
)
# The entries list ends at the first of these furniture lines; the bite starts after the last one.
_END_OF_ENTRIES = re.compile(r"^(?:more |For subtopics |Matrix Bite\b)")
_BITE_OPEN = re.compile(r"^Matrix Bite\b")
_BITE_CLOSE = re.compile(r"^Close Matrix Bite\b")
_BITE_FURNITURE = re.compile(r"^(?:Close Matrix Bite\b|Links to other documents\.)")
# Labels of fold-out buttons that the text rendering leaves inside bite paragraphs.
_INLINE_BUTTON = re.compile(r"\s*\bUnfold (?:supplementary|extra) text\b")
# The site's bite template: these headings open the top-level sections, in this order when present.
TOP_HEADINGS: tuple[str, ...] = (
    "What is this cell about?",
    "Where should I start?",
    "Highlighted study",
    "Issues to consider and discuss",
)
_ISSUES_HEADING = "Issues to consider and discuss"
PARSER_AGENT = "matrixkg-parser"

_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_PAREN = re.compile(r"\(([^()]*)\)")
# A citation inside a summary: "(2006)", "(NHS Health Scotland, 2011)", "([UK] Body, 2011)".
_CITATION = re.compile(r"\((?:\[[^\]]+\]\s*)?(?:[^()\[\]]*?,\s*)?(?:1[5-9]|20)\d\d\)")
_CITATION_PARTS = re.compile(
    r"^(?:\[(?P<places>[^\]]+)\]\s*)?(?P<bodies>.*?)(?:,\s*)?(?P<year>(?:1[5-9]|20)\d\d)\b(?P<note>.*)$"
)
_PRODUCED_FOR = re.compile(r"^(?:Report\s+)?Produced\s+for\s+(?:the\s+)?", re.IGNORECASE)
_ENDS_SENTENCE = re.compile(r"[.!?)\]\"”’']$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z‘“\"'(])")
_APOSTROPHE = "[’']"
_BITE_SECTIONS = re.compile(
    rf"\bbite{_APOSTROPHE}s\s+(?P<spec>.+?)\s+sections?\b(?:\s*\((?P<numbers>\d+(?:\s+\d+)*)\))?"
)
# "cell D2’s bite", or "Drug Matrix cell D2’s bite" for a cell of the other matrix.
_CELL_BITE = re.compile(
    rf"\b(?:(?P<matrix>Alcohol|Drug)\s+Matrix\s+)?cell\s+(?P<cell>[A-E][1-5]){_APOSTROPHE}s\s+bite\b"
)
_CROSS_REFERENCE = re.compile(
    r"\b(?P<kind>[Cc]orresponding|[Rr]elated|[Ss]ee also)\s+"
    r"(?P<description>[^.()]*?)\s+(?P<direction>below|above)\b"
)

# Jurisdiction names and adjectives as the pages write them → ISO 3166 codes (GB-SCT is ISO 3166-2).
# Every code must be one the skeleton (data/skeleton.toml) describes, so that each link dereferences.
JURISDICTION_CODES: dict[str, str] = {
    "UK": "GB",
    "GB": "GB",
    "United Kingdom": "GB",
    "Britain": "GB",
    "British": "GB",
    "England": "GB-ENG",
    "English": "GB-ENG",
    "Scotland": "GB-SCT",
    "Scottish": "GB-SCT",
    "Wales": "GB-WLS",
    "Welsh": "GB-WLS",
    "Northern Ireland": "GB-NIR",
    "US": "US",
    "USA": "US",
    "United States": "US",
    "America": "US",
    "American": "US",
    "Netherlands": "NL",
    "Dutch": "NL",
    "Australia": "AU",
    "Australian": "AU",
    "Canada": "CA",
    "Canadian": "CA",
    "Ireland": "IE",
    "Irish": "IE",
    "New Zealand": "NZ",
    "Sweden": "SE",
    "Swedish": "SE",
    "Germany": "DE",
    "German": "DE",
    "Switzerland": "CH",
    "Swiss": "CH",
}
_PLACE_WORDS = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, JURISDICTION_CODES), key=len, reverse=True)) + r")\b"
)

# Words that mark a name as an organisation; used to tell "A and B" (two bodies) from
# "Institute for Health and Care Excellence" (one body whose name contains "and").
_ORGANISATION_WORDS = frozenset(
    """department ministry agency institute institution administration committee council office board
    organisation organization association society college centre center executive commission government
    foundation trust network authority unit alliance federation forum consortium group panel partnership
    programme directorate inspectorate assembly parliament bureau faculty academy university school
    england scotland wales ireland""".split()
)
_NAME_SEPARATOR = re.compile(r"(,\s+and\s+|,\s+|\s+and\s+)")

# Nouns naming a work cited inline, and the FaBiO class each implies (docs/model.md).
_WORK_NOUNS: dict[str, URIRef] = {
    **dict.fromkeys(
        ["study", "studies", "trial", "trials", "analysis", "analyses", "evaluation", "survey", "experiment"],
        FABIO.JournalArticle,
    ),
    **dict.fromkeys(["review", "reviews", "synthesis", "meta-analysis", "overview"], FABIO.ReviewArticle),
    **dict.fromkeys(["guidelines", "guideline", "guidance", "recommendations"], FABIO.ClinicalGuideline),
    **dict.fromkeys(["report", "reports", "briefing"], FABIO.Report),
}
# Words that cannot belong to the noun phrase naming a cited work: scanning back from its noun stops here.
_PHRASE_STOP = frozenset(
    """a an the this that these those its their his her our see also in from of on to by for with and or but
    was were is are has have had been be included including which who as at into after before than same
    other another took found showed""".split()
)
_PREPOSITIONS = frozenset("of on in into for to from about with among comparing across".split())
# Finite verbs that end a qualifying phrase: "an analysis (2015) restricted to GPs | came to …".
_CLAUSE_VERBS = frozenset(
    """found showed suggested concluded reported came confirmed indicated revealed estimated was were is are
    has have had can could may might will would did does""".split()
)
_AUXILIARY_END = re.compile(r"\s+(?:has|have|had)\s+been$|\s+(?:was|were|is|are)$")
# Words that typically open the first sentence after an issue heading with no question mark.
_SENTENCE_STARTERS = frozenset(
    """the this these those that there here here's here’s what when where why how who which in on at for if it
    its it's it’s as a an we our you your without with but yet so although though while despite even one
    some many most such after before since unlike like from by not no all both each every among given
    because research studies evidence""".split()
)
_HEADING_STOP = frozenset("a an the of and or to for in on with by at from".split())

# What each kind of cited work in a cross-reference ("Corresponding US study below") may be listed as.
_REFERENCE_KINDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(["study", "studies", "trial", "trials", "analysis", "evaluation"], frozenset("SK")),
    **dict.fromkeys(["review", "reviews", "synthesis", "meta-analysis"], frozenset("R")),
    **dict.fromkeys(["guidance", "guidelines", "guideline", "report", "standards"], frozenset("G")),
}


# --- records --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A stretch of one line of the page: 1-based line number and character offsets within that line."""

    line: int
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """What a parenthesis "([UK] Body A and Body B, 2011; note)" says about a work."""

    year: str
    publishers: tuple[str, ...] = ()
    produced_for: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Discussion:
    """A pointer to where a work is discussed: named sections of this cell's bite, or another cell's bite."""

    sections: tuple[str, ...] = ()
    cell: str | None = None
    matrix: str | None = None


@dataclass(frozen=True)
class CrossReference:
    """An entry's pointer to a neighbouring entry: "Corresponding US study below", "Related review above"."""

    property: URIRef
    description: str
    direction: str
    span: Span


@dataclass
class Mention:
    """A work cited inline in a summary, e.g. "a simulation study (2011)"."""

    title: str
    kind: URIRef
    citation: Citation
    span: Span
    discussions: list[Discussion] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The document key: year and the first words of the descriptive title."""
        return f"{self.citation.year}-{slugify(self.title, max_words=6)}"


@dataclass
class ParsedEntry:
    """One entry line of a cell page."""

    position: int
    line: int
    text: str
    categories: tuple[str, ...]
    headline: str
    summary: str
    citation: Citation
    key: str = ""
    discussions: list[Discussion] = field(default_factory=list)
    cross_references: list[CrossReference] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


@dataclass
class Paragraph:
    """One paragraph of bite text and where it sits in the page."""

    text: str
    span: Span


@dataclass
class ParsedSection:
    """One section of a bite: a top-level section or an issue within "Issues to consider and discuss"."""

    heading: str
    span: Span
    parent: ParsedSection | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    children: list[ParsedSection] = field(default_factory=list)
    slug: str = ""


@dataclass(frozen=True)
class ParsedTitle:
    """The title line: which matrix and cell, and the cell's column and row labels."""

    text: str
    line: int
    matrix: str
    cell: str
    column_label: str
    row_label: str


@dataclass
class ParsedPage:
    """Everything read from one page, before it becomes triples."""

    title: ParsedTitle
    entries: list[ParsedEntry]
    sections: list[ParsedSection]


# --- helpers --------------------------------------------------------------------------------------------


def jurisdiction_code(place: str) -> str | None:
    """Return the ISO 3166 code for a place as pages write it, or None when unknown.

    >>> jurisdiction_code("UK"), jurisdiction_code("Scotland"), jurisdiction_code("Atlantis")
    ('GB', 'GB-SCT', None)
    """
    return JURISDICTION_CODES.get(place.strip())


def split_bodies(names: str) -> list[str]:
    """Return the organisations named in "A, B and C", keeping names that themselves contain "and" whole.

    >>> split_bodies("Department of Health and National Treatment Agency for Substance Misuse")
    ['Department of Health', 'National Treatment Agency for Substance Misuse']
    >>> split_bodies("National Institute for Health and Care Excellence")
    ['National Institute for Health and Care Excellence']
    >>> split_bodies("Substance Abuse and Mental Health Services Administration")
    ['Substance Abuse and Mental Health Services Administration']
    >>> split_bodies("Ministry of Care, Sobriety Council and NHS Borders")
    ['Ministry of Care', 'Sobriety Council', 'NHS Borders']
    """
    # A separator splits only when the text on both sides names an organisation by itself (has a word such
    # as Department, Agency, Institute, or an acronym), so "Health and Care Excellence" stays together.
    parts = _NAME_SEPARATOR.split(names.strip())
    groups = [parts[0]]
    for separator, piece in zip(parts[1::2], parts[2::2], strict=True):
        if _names_organisation(groups[-1]) and _names_organisation(piece):
            groups.append(piece)
        else:
            groups[-1] += separator + piece
    return [group.strip() for group in groups if group.strip()]


def _names_organisation(name: str) -> bool:
    words = re.findall(r"[\w’'-]+", name)
    return any(word.lower() in _ORGANISATION_WORDS or (len(word) > 1 and word.isupper()) for word in words)


def parse_citation(content: str) -> Citation | None:
    """Return what a parenthesis's content says about a work, or None when it holds no year.

    >>> parse_citation("[UK] Department of Health and National Treatment Agency, 2006").publishers
    ('Department of Health', 'National Treatment Agency')
    >>> parse_citation("2004; for free source see below")
    Citation(year='2004', publishers=(), produced_for=(), places=(), note='for free source see below')
    >>> parse_citation("after") is None
    True
    """
    match = _CITATION_PARTS.match(content.strip())
    if not match:
        return None
    places = tuple(p.strip() for p in re.split(r",|\band\b", match["places"] or "") if p.strip())
    bodies_text = match["bodies"].strip().rstrip(",").strip()
    note = match["note"].strip().lstrip(";,:").strip()
    produced = _PRODUCED_FOR.match(bodies_text)
    if produced:
        return Citation(match["year"], (), tuple(split_bodies(bodies_text[produced.end() :])), places, note)
    publishers = tuple(split_bodies(bodies_text)) if bodies_text else ()
    return Citation(match["year"], publishers, (), places, note)


def split_issue_heading(text: str) -> tuple[str, str] | None:
    """Return (heading, rest) for the first paragraph of an issue, or None when no heading can be found.

    >>> split_issue_heading("Is it worth it? Here we weigh the costs.")
    ('Is it worth it?', 'Here we weigh the costs.')
    >>> split_issue_heading("Support mutual aid says NICE The section above argued this.")
    ('Support mutual aid says NICE', 'The section above argued this.')
    >>> split_issue_heading("Ask the patients")
    ('Ask the patients', '')
    """
    # The page keeps no markup, so the heading is found from wording alone. Question headings end at the
    # first "?" within the first 12 words. Other headings are 2-10 words and end before a capitalised word
    # that opens the first sentence: preferably a usual sentence opener ("The", "Here’s", "What"…), else
    # the first capitalised word that is not an acronym ("NICE" belongs to the heading) and does not follow
    # a word such as "of" or "the" (a heading does not end on those). A short paragraph with no closing
    # full stop is a heading on a line of its own. A fixed list of known headings would not generalise.
    words = text.split()
    question = text.find("?")
    if question != -1 and len(text[: question + 1].split()) <= 12:
        return text[: question + 1].strip(), text[question + 1 :].strip()
    if len(words) <= 12 and not _ENDS_SENTENCE.search(text):
        return text.strip(), ""
    candidates: list[int] = []
    for k in range(2, min(11, len(words))):
        word = words[k].strip("‘“\"'(")
        previous = words[k - 1]
        if not word[:1].isupper() or (len(word) > 1 and word.isupper()):
            continue
        if previous.lower() in _HEADING_STOP or previous[-1:] in ",;:.":
            continue
        candidates.append(k)
    if not candidates:
        return None
    starters = [k for k in candidates if words[k].strip("‘“\"'(,").lower() in _SENTENCE_STARTERS]
    k = (starters or candidates)[0]
    return " ".join(words[:k]), " ".join(words[k:])


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        yield start, match.start()
        start = match.end()
    if start < len(text):
        yield start, len(text)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _word(text: str) -> str:
    return text.strip("‘’“”\"',;:.()").lower()


def describe_mention(before: str, after: str) -> tuple[str, URIRef]:
    """Return a descriptive title and FaBiO class for a work cited as "<before> (year) <after>".

    >>> describe_mention("Impacts were included in a simulation study", "which suggested gains")
    ('Simulation study', rdflib.term.URIRef('http://purl.org/spar/fabio/JournalArticle'))
    >>> describe_mention("See also a review", "limited to trials of housing schemes")[0]
    'Review limited to trials of housing schemes'
    >>> describe_mention("Siting nurses in clinics has been", "one successful tactic")[0]
    'Siting nurses in clinics'
    """
    before = before.strip()
    auxiliary = _AUXILIARY_END.search(before)
    if auxiliary:
        # "X has been (2006) one tactic": the year dates the clause's subject, X.
        subject = before[: auxiliary.start()].split()
        while subject and subject[0].lower() in {"and", "but", "so", "also"}:
            subject = subject[1:]
        title = " ".join(subject)
        return _capitalise(title), _kind_of(title)
    words = before.split()
    nouns = [i for i, word in enumerate(words) if _word(word) in _WORK_NOUNS]
    if nouns:
        start = nouns[-1]
        while start > 0 and _word(words[start - 1]) not in _PHRASE_STOP:
            start -= 1
        title = " ".join(words[start:])
        follow = after.strip().split()
        # "a review (2006) limited to trials of …": a qualifying phrase after the year belongs to the title.
        qualifies = bool(follow) and (
            _word(follow[0]) in _PREPOSITIONS
            or (
                _word(follow[0]).endswith(("ed", "ing"))
                and len(follow) > 1
                and _word(follow[1]) in _PREPOSITIONS
            )
        )
        if qualifies:
            clause = re.split(r"[,;.]|\s(?:which|that|who|and|but)\s", after.strip())[0].split()
            end = next(
                (i for i, word in enumerate(clause) if i > 1 and _word(word) in _CLAUSE_VERBS), len(clause)
            )
            title = f"{title} {' '.join(clause[:end])}"
        return _capitalise(title.strip(" ,;:")), _WORK_NOUNS[_word(words[nouns[-1]])]
    start = len(words)
    while start > 0 and _word(words[start - 1]) not in _PHRASE_STOP:
        start -= 1
    title = " ".join(words[start:] or words[-8:])
    return _capitalise(title.strip(" ,;:")), _kind_of(title)


def _kind_of(title: str) -> URIRef:
    for word in reversed(title.split()):
        if _word(word) in _WORK_NOUNS:
            return _WORK_NOUNS[_word(word)]
    return FABIO.Expression


# --- reading the page -----------------------------------------------------------------------------------


class _Reader:
    """Reads one page's lines into records, raising SourceError with the file and line at fault."""

    def __init__(self, page: SourcePage) -> None:
        self.page = page
        self.file = str(page.path)
        self.lines = page.text.split("\n")

    def fail(self, line: int, problem: str) -> SourceError:
        return SourceError(self.file, line, problem)

    def gap_before(self, index: int) -> int:
        gap = 0
        while index - gap - 1 >= 0 and not self.lines[index - gap - 1].strip():
            gap += 1
        return gap

    def read(self) -> ParsedPage:
        title_index, title = self.read_title()
        entries_end = self.find(title_index + 1, _END_OF_ENTRIES)
        if entries_end is None:
            raise self.fail(len(self.lines), "page is truncated: it ends before the end of its entries list")
        bite_open = self.find(entries_end, _BITE_OPEN)
        if bite_open is None:
            raise self.fail(len(self.lines), "page is truncated: it ends before its Matrix Bite")
        entries = self.read_entries(title_index + 1, entries_end)
        sections = self.read_bite(bite_open + 1)
        return ParsedPage(title, entries, sections)

    def find(self, start: int, pattern: re.Pattern[str]) -> int | None:
        return next((i for i in range(start, len(self.lines)) if pattern.match(self.lines[i])), None)

    def read_title(self) -> tuple[int, ParsedTitle]:
        for index, text in enumerate(self.lines):
            match = _TITLE.match(text.strip())
            if match:
                title = ParsedTitle(
                    text=text.strip(),
                    line=index + 1,
                    matrix=match["matrix"].lower(),
                    cell=match["cell"],
                    column_label=match["column"].strip(),
                    row_label=match["row"].strip(),
                )
                return index, title
        raise self.fail(1, "no title line such as 'Alcohol Matrix cell E4: <column>; <row>'")

    # --- entries ----------------------------------------------------------------------------------------
    def read_entries(self, start: int, end: int) -> list[ParsedEntry]:
        entries: list[ParsedEntry] = []
        for index in range(start, end):
            raw = self.lines[index]
            if raw.strip():
                indent = len(raw) - len(raw.lstrip())
                entries.append(self.read_entry(index + 1, raw.strip(), len(entries) + 1, indent))
        if not entries:
            raise self.fail(start, "no entries after the title line")
        return entries

    def read_entry(self, line: int, text: str, position: int, indent: int = 0) -> ParsedEntry:
        tokens = text.split(" ")
        categories: list[str] = []
        while len(tokens) > 1 and tokens[0] in CATEGORIES:
            categories.append(tokens.pop(0))
        if not categories:
            if re.match(r"^[A-Z] ", text):
                raise self.fail(line, f"unknown category {text[0]!r} (expected one of S, K, R, G)")
            raise self.fail(
                line, f"expected an entry starting with a category letter S, K, R or G: {text[:40]!r}"
            )
        rest = " ".join(tokens)
        # Offsets of summary passages are kept relative to the raw line, for their text-quote selectors.
        offset = indent + len(text) - len(rest)
        year_paren = None
        for match in _PAREN.finditer(rest):
            # The year parenthesis closes the headline: it holds a year and is followed by ". " or the end.
            if _YEAR.search(match[1]) and re.match(r"\.(?:\s|$)", rest[match.end() :]):
                year_paren = match
                break
        if year_paren is None:
            raise self.fail(line, "entry has no year: expected '(YYYY). ' after its headline")
        citation = parse_citation(year_paren[1])
        if citation is None:
            raise self.fail(line, f"cannot read the year parenthesis ({year_paren[1]})")
        self.check_places(line, citation)
        if not _ENDS_SENTENCE.search(text):
            raise self.fail(line, "entry ends mid-sentence: the page looks truncated")
        headline = rest[: year_paren.start()].strip()
        summary_start = year_paren.end() + 1
        summary = rest[summary_start:].strip()
        entry = ParsedEntry(position, line, text, tuple(categories), headline, summary, citation)
        self.read_summary(
            entry, offset + summary_start + (len(rest[summary_start:]) - len(rest[summary_start:].lstrip()))
        )
        return entry

    def check_places(self, line: int, citation: Citation) -> None:
        for place in citation.places:
            if jurisdiction_code(place) is None:
                raise self.fail(line, f"unknown jurisdiction [{place}]")

    def read_summary(self, entry: ParsedEntry, offset: int) -> None:
        """Find discussions, cross-references and inline citations in an entry's summary."""
        summary = entry.summary
        for start, end in _sentences(summary):
            sentence = summary[start:end]
            mentions: list[tuple[int, Mention]] = []
            for match in _CITATION.finditer(sentence):
                citation = parse_citation(match[0][1:-1])
                if citation is None:
                    continue
                self.check_places(entry.line, citation)
                title, kind = describe_mention(sentence[: match.start()], sentence[match.end() :])
                span = Span(entry.line, offset + start, offset + end)
                mention = Mention(title, kind, citation, span)
                mentions.append((match.end(), mention))
                entry.mentions.append(mention)
            for position, discussion in self.read_discussions(entry.line, sentence):
                # A discussion named after an inline citation in the same sentence is about the cited work.
                owner = next((m for cited_end, m in reversed(mentions) if cited_end <= position), None)
                (owner.discussions if owner else entry.discussions).append(discussion)
            for match in _CROSS_REFERENCE.finditer(sentence):
                wording = match["kind"].lower()
                entry.cross_references.append(
                    CrossReference(
                        MKG.correspondsTo if wording == "corresponding" else MKG.relatedTo,
                        match["description"],
                        match["direction"],
                        Span(entry.line, offset + start + match.start(), offset + start + match.end()),
                    )
                )

    def read_discussions(self, line: int, sentence: str) -> Iterator[tuple[int, Discussion]]:
        for match in _BITE_SECTIONS.finditer(sentence):
            names = [n.strip() for n in re.split(r",|\band\b", match["spec"]) if n.strip()]
            # "Issues (1 2)" numbers the page's links to passages, not the issues (the bite uses the same
            # "(1 2)" for links to entries), so only the named sections are recorded.
            names = [re.sub(r"\s*\([\d\s]+\)$", "", name) for name in names]
            yield match.start(), Discussion(sections=tuple(names))
        for match in _CELL_BITE.finditer(sentence):
            matrix = match["matrix"].lower() if match["matrix"] else None
            yield match.start(), Discussion(cell=match["cell"], matrix=matrix)

    # --- the bite ---------------------------------------------------------------------------------------
    def read_bite(self, start: int) -> list[ParsedSection]:
        last = max((i for i, text in enumerate(self.lines) if text.strip()), default=-1)
        if last < start or not _BITE_CLOSE.match(self.lines[last].strip()):
            raise self.fail(
                len(self.lines), "page is truncated: its bite does not end with 'Close Matrix Bite'"
            )
        first = start
        while first < last and (not self.lines[first].strip() or _BITE_FURNITURE.match(self.lines[first])):
            first += 1
        if first >= last:
            raise self.fail(last + 1, "page has an empty Matrix Bite")
        sections: list[ParsedSection] = []
        issues: ParsedSection | None = None
        current: ParsedSection | None = None
        expect_issue = False
        for index in range(first, last):
            text = self.lines[index].rstrip()
            if not text.strip():
                continue
            line = index + 1
            heading = next((h for h in TOP_HEADINGS if text == h or text.startswith(h + " ")), None)
            if heading is not None:
                current = ParsedSection(heading, Span(line, 0, len(text)))
                sections.append(current)
                rest = text[len(heading) :].strip()
                if rest:
                    current.paragraphs.append(Paragraph(rest, Span(line, len(text) - len(rest), len(text))))
                issues = current if heading == _ISSUES_HEADING else None
                expect_issue = issues is not None and not rest
                continue
            if current is None:
                raise self.fail(line, f"bite text before its first heading ({', '.join(TOP_HEADINGS)})")
            # Issues are blocks set apart by two blank lines; the first follows the heading directly.
            if issues is not None and (expect_issue or self.gap_before(index) >= 2):
                split = split_issue_heading(text.strip())
                if split is None:
                    raise self.fail(line, f"cannot find the heading of the issue starting {text[:40]!r}")
                current = ParsedSection(split[0], Span(line, 0, len(text)), parent=issues)
                issues.children.append(current)
                if split[1]:
                    current.paragraphs.append(
                        Paragraph(split[1], Span(line, len(text) - len(split[1]), len(text)))
                    )
                expect_issue = False
                continue
            current.paragraphs.append(
                Paragraph(text.strip(), Span(line, len(text) - len(text.lstrip()), len(text)))
            )
        if not sections:
            raise self.fail(first + 1, "bite has no known section heading")
        return sections


def read_page(page: SourcePage) -> ParsedPage:
    """Return the records read from a source page (no triples yet)."""
    return _Reader(page).read()


# --- triples --------------------------------------------------------------------------------------------


class _Writer:
    """Turns one page's records into triples, minting every IRI through the Minter."""

    def __init__(self, page: SourcePage, parsed: ParsedPage, minter: Minter, extracted_at: datetime) -> None:
        self.page = page
        self.parsed = parsed
        self.minter = minter
        self.extracted_at = extracted_at
        self.graph = Graph()
        for prefix, namespace in PREFIXES.items():
            self.graph.bind(prefix, namespace)
        self.lines = page.text.split("\n")
        self.matrix = parsed.title.matrix
        self.cell_code = parsed.title.cell
        self.source = minter.source(page.name)
        self.passages: dict[str, URIRef] = {}
        self.section_iris: dict[int, URIRef] = {}
        self.bite = minter.bite(self.matrix, self.cell_code)
        self.reader = _Reader(page)

    def add(self, subject: URIRef, predicate: URIRef, value: URIRef | Literal) -> None:
        self.graph.add((subject, predicate, value))

    def text(self, value: str) -> Literal:
        return Literal(value, lang="en")

    def derive(self, subject: URIRef, span: Span) -> None:
        """Link *subject* to the passage it was read from, describing the passage on first use."""
        line_text = self.lines[span.line - 1]
        start, end = span.start, span.end
        quote = line_text[start:end]
        if self.page.text.count(quote) > 1:
            # The passage IRI is content-addressed by its quote, so widen a repeated quote to its whole line.
            start, end, quote = 0, len(line_text), line_text
        passage = self.passages.get(quote)
        if passage is None:
            passage = self.minter.passage(self.page.name, quote)
            self.passages[quote] = passage
            selector = self.minter.selector(passage)
            self.add(passage, RDF.type, OA.SpecificResource)
            self.add(passage, OA.hasSource, self.source)
            self.add(passage, OA.hasSelector, selector)
            self.add(selector, RDF.type, OA.TextQuoteSelector)
            self.add(selector, OA.exact, Literal(quote))
            # Context stays within the quote's own line: page furniture never leaks into the data, and
            # mkg:line already locates the quote.
            prefix, suffix = line_text[max(0, start - 32) : start], line_text[end : end + 32]
            if prefix:
                self.add(selector, OA.prefix, Literal(prefix))
            if suffix:
                self.add(selector, OA.suffix, Literal(suffix))
            self.add(selector, MKG.line, Literal(span.line, datatype=XSD.integer))
        self.add(subject, PROV.wasDerivedFrom, passage)

    def write(self) -> Graph:
        self.write_source()
        self.write_cell()
        self.write_sections()
        self.write_entries()
        return self.graph

    def write_source(self) -> None:
        title = self.parsed.title
        self.add(self.source, RDF.type, MKG.SourcePage)
        self.add(self.source, DCTERMS.title, self.text(title.text))
        self.add(self.source, MKG.sha256, Literal(self.page.sha256))
        self.add(self.source, DCTERMS.format, Literal("text/plain"))
        extraction = self.minter.extraction(self.page.name)
        self.add(extraction, RDF.type, PROV.Activity)
        self.add(extraction, RDFS.label, self.text(f"Extraction of source page {self.page.name}"))
        self.add(extraction, PROV.used, self.source)
        self.add(extraction, PROV.endedAtTime, Literal(self.extracted_at, datatype=XSD.dateTime))
        # The agent is named without a version so that a release does not change every page graph.
        agent = self.minter.agent(PARSER_AGENT)
        self.add(extraction, PROV.wasAssociatedWith, agent)
        self.add(agent, RDF.type, PROV.SoftwareAgent)
        self.add(agent, RDFS.label, self.text("matrixkg source-page parser"))

    def write_cell(self) -> None:
        title = self.parsed.title
        cell = self.minter.cell(self.matrix, self.cell_code)
        self.add(cell, RDF.type, MKG.Cell)
        self.add(cell, SKOS.prefLabel, self.text(title.text))
        self.add(cell, MKG.inMatrix, self.minter.matrix(self.matrix))
        self.add(cell, MKG.column, self.minter.column(self.matrix, self.cell_code[0]))
        self.add(cell, MKG.row, self.minter.row(self.matrix, self.cell_code[1]))
        self.add(self.bite, RDF.type, MKG.Bite)
        self.add(self.bite, MKG.inCell, cell)

    # --- bite -------------------------------------------------------------------------------------------
    def write_sections(self) -> None:
        used: set[str] = set()
        for order, section in enumerate(self.parsed.sections, start=1):
            self.write_section(section, self.bite, order, used)

    def write_section(self, section: ParsedSection, parent: URIRef, order: int, used: set[str]) -> None:
        section.slug = _unique(slugify(section.heading) or "section", used)
        iri = self.minter.bite_section(self.matrix, self.cell_code, section.slug)
        self.section_iris[id(section)] = iri
        self.add(iri, RDF.type, MKG.BiteSection)
        self.add(iri, DCTERMS.title, self.text(section.heading))
        self.add(iri, DCTERMS.isPartOf, parent)
        self.add(iri, MKG.order, Literal(order, datatype=XSD.integer))
        self.derive(iri, section.span)
        texts: list[str] = []
        for number, paragraph in enumerate(section.paragraphs, start=1):
            text = _INLINE_BUTTON.sub("", paragraph.text).strip()
            texts.append(text)
            node = self.minter.paragraph(iri, number)
            self.add(node, RDF.type, DOCO.Paragraph)
            self.add(node, DCTERMS.isPartOf, iri)
            self.add(node, MKG.order, Literal(number, datatype=XSD.integer))
            self.add(node, SCHEMA.text, self.text(text))
            self.derive(node, paragraph.span)
            for match in _CELL_BITE.finditer(text):
                matrix = match["matrix"].lower() if match["matrix"] else self.matrix
                self.refer(iri, self.minter.bite(matrix, match["cell"]))
        if texts:
            self.add(iri, SCHEMA.text, self.text("\n\n".join(texts)))
        for child_order, child in enumerate(section.children, start=1):
            self.write_section(child, iri, child_order, used)

    def refer(self, subject: URIRef, other: URIRef) -> None:
        """Record that *subject* (a section) names another cell's bite; the bite then refers to it too."""
        if other == self.bite:
            return
        self.add(subject, DCTERMS.references, other)
        self.add(self.bite, DCTERMS.references, other)

    def resolve_discussion(self, discussion: Discussion, line: int) -> list[URIRef]:
        if discussion.cell is not None:
            target = self.minter.bite(discussion.matrix or self.matrix, discussion.cell)
            if target != self.bite:
                self.add(self.bite, DCTERMS.references, target)
            return [target]
        targets = []
        for name in discussion.sections:
            section = self.find_section(name)
            if section is None:
                raise self.reader.fail(line, f"no section of this cell's bite is called {name!r}")
            targets.append(self.section_iris[id(section)])
        return targets

    def find_section(self, name: str) -> ParsedSection | None:
        wanted = name.lower().rstrip("?").strip()
        every = [*self.parsed.sections, *(c for s in self.parsed.sections for c in s.children)]
        for section in every:
            heading = section.heading.lower().rstrip("?").strip()
            if heading == wanted or heading.startswith(wanted + " "):
                return section
        return None

    # --- entries and documents --------------------------------------------------------------------------
    def write_entries(self) -> None:
        entries = self.parsed.entries
        used: set[str] = set()
        for entry in entries:
            entry.key = _unique(f"{entry.citation.year}-{slugify(entry.headline, max_words=6)}", used)
        cell = self.minter.cell(self.matrix, self.cell_code)
        documents = {entry.key for entry in entries}
        for entry in entries:
            iri = self.entry_iri(entry)
            document = self.minter.document(entry.key)
            self.add(iri, RDF.type, MKG.Entry)
            self.add(iri, MKG.inCell, cell)
            for letter in entry.categories:
                self.add(iri, MKG.category, self.minter.category(letter))
            self.add(iri, DCTERMS.title, self.text(entry.headline))
            if entry.summary:
                self.add(iri, DCTERMS.abstract, self.text(entry.summary))
            if entry.citation.note:
                self.add(iri, SKOS.note, self.text(entry.citation.note))
            self.add(iri, MKG.position, Literal(entry.position, datatype=XSD.integer))
            self.add(iri, MKG.describes, document)
            self.derive(iri, Span(entry.line, 0, len(self.lines[entry.line - 1])))
            self.write_document(document, entry.headline, _entry_kind(entry), entry.citation)
            self.derive(document, Span(entry.line, 0, len(self.lines[entry.line - 1])))
            for discussion in entry.discussions:
                for target in self.resolve_discussion(discussion, entry.line):
                    self.add(iri, MKG.discussedIn, target)
                    self.add(document, MKG.discussedIn, target)
            for mention in entry.mentions:
                mentioned = self.minter.document(mention.key)
                self.add(iri, MKG.mentions, mentioned)
                if mention.key not in documents:
                    documents.add(mention.key)
                    self.write_document(mentioned, mention.title, mention.kind, mention.citation)
                self.derive(mentioned, mention.span)
                for discussion in mention.discussions:
                    for target in self.resolve_discussion(discussion, entry.line):
                        self.add(mentioned, MKG.discussedIn, target)
        for entry in entries:
            for reference in entry.cross_references:
                other = self.resolve_cross_reference(entry, reference)
                self.add(self.entry_iri(entry), reference.property, self.entry_iri(other))
                self.add(self.entry_iri(other), reference.property, self.entry_iri(entry))

    def entry_iri(self, entry: ParsedEntry) -> URIRef:
        return self.minter.entry(self.matrix, self.cell_code, entry.key)

    def write_document(self, iri: URIRef, title: str, kind: URIRef, citation: Citation) -> None:
        self.add(iri, RDF.type, MKG.Document)
        self.add(iri, RDF.type, kind)
        self.add(iri, DCTERMS.title, self.text(title))
        self.add(iri, FABIO.hasPublicationYear, Literal(citation.year, datatype=XSD.gYear))
        places = [self.minter.jurisdiction(code) for code in _codes(citation.places)]
        for place in places:
            self.add(iri, DCTERMS.coverage, place)
        for names, predicate in (
            (citation.publishers, DCTERMS.publisher),
            (citation.produced_for, MKG.producedFor),
        ):
            for name in names:
                body = self.minter.organization(slugify(name))
                self.add(iri, predicate, body)
                self.add(body, RDF.type, MKG.GuidanceBody)
                self.add(body, SKOS.prefLabel, self.text(name))
                for place in places:
                    self.add(body, SCHEMA.areaServed, place)

    def resolve_cross_reference(self, entry: ParsedEntry, reference: CrossReference) -> ParsedEntry:
        """Return the entry a "… below/above" phrase points to."""
        # Candidates lie in the given direction and match the description's kind of work and place; one
        # that points back at this entry wins (so "Related review above" finds the review whose "See also
        # US guidance below" names this entry, not the nearer review in between), else the nearest.
        candidates = self.candidates(entry, reference)
        if not candidates:
            raise self.reader.fail(
                entry.line, f"no entry {reference.direction} matches {reference.description!r}"
            )
        for candidate in candidates:
            for back in candidate.cross_references:
                if back.direction != reference.direction and entry in self.candidates(candidate, back):
                    return candidate
        return candidates[0]

    def candidates(self, entry: ParsedEntry, reference: CrossReference) -> list[ParsedEntry]:
        entries = self.parsed.entries
        index = entries.index(entry)
        ordered = entries[index + 1 :] if reference.direction == "below" else entries[:index][::-1]
        words = [_word(w) for w in reference.description.split()]
        kinds = [_REFERENCE_KINDS[w] for w in words if w in _REFERENCE_KINDS]
        places = set(_codes(m[1] for m in _PLACE_WORDS.finditer(reference.description)))
        found = []
        for other in ordered:
            if kinds and not set(other.categories) & kinds[-1]:
                continue
            if places and not any(
                code == place or code.startswith(place + "-")
                for code in _entry_places(other)
                for place in places
            ):
                continue
            found.append(other)
        return found


def _entry_kind(entry: ParsedEntry) -> URIRef:
    if entry.citation.produced_for:
        return FABIO.Report
    for letter, kind in (("G", FABIO.ClinicalGuideline), ("R", FABIO.ReviewArticle)):
        if letter in entry.categories:
            return kind
    return FABIO.JournalArticle


def _codes(places: Iterable[str]) -> list[str]:
    codes: list[str] = []
    for place in places:
        code = jurisdiction_code(place)
        if code is not None and code not in codes:
            codes.append(code)
    return codes


def _entry_places(entry: ParsedEntry) -> set[str]:
    """Return the jurisdictions an entry is about: its bracket, else places its text names."""
    text = f"{entry.headline}. {_CROSS_REFERENCE.sub('', entry.summary)}"
    return set(_codes(entry.citation.places)) | set(_codes(m[1] for m in _PLACE_WORDS.finditer(text)))


def _unique(key: str, used: set[str]) -> str:
    """Return *key*, or *key* with the first free "-2", "-3"… suffix, and mark it used."""
    candidate, number = key, 1
    while candidate in used:
        number += 1
        candidate = f"{key}-{number}"
    used.add(candidate)
    return candidate


def parse_page(page: SourcePage, minter: Minter, extracted_at: datetime) -> Graph:
    """Return the triples read from one source page (the build puts them in its own named graph)."""
    return _Writer(page, read_page(page), minter, extracted_at).write()
