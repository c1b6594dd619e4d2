"""How each predicate is said in text: several phrasings per predicate, one picked per sentence.

``{s}`` is the subject, ``{o}`` the object or value, ``{on}`` a date with its preposition
("on 3 May 1987" / "in 1987"), ``{a}`` the value with its indefinite article, ``{y}`` a
qualifier year phrase (" in 1994" or ""). Each phrasing must state the fact exactly: nothing
rounded, nothing hedged, so provenance is exact.
"""

from __future__ import annotations

from typing import Final

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "occupation": ("{s} is {a}.", "{s} works as {a}.", "By profession, {s} is {a}."),
    "date_of_birth": ("{s} was born {on}.", "{s}'s date of birth is {o}.", "{s} was born {on}, according to records."),
    "date_of_death": ("{s} died {on}.", "{s} passed away {on}.", "The death of {s} came {on}."),
    "born_in": ("{s} was born in {o}.", "{s} is a native of {o}.", "{s}'s birthplace is {o}."),
    "died_in": ("{s} died in {o}.", "{s} spent their final days in {o}, where they died.", "{o} is where {s} died."),
    "citizen_of": ("{s} is a citizen of {o}.", "{s} holds citizenship of {o}.", "{s} is a national of {o}."),
    "educated_at": ("{s} studied at {o}.", "{s} is a graduate of {o}.", "{s} was educated at {o}."),
    "employer": ("{s} works for {o}.", "{s} has been employed by {o}.", "{s} is on the staff of {o}."),
    "spouse": ("{s} is married to {o}.", "{s} and {o} are married.", "{s}'s spouse is {o}."),
    "child": ("{s} is a parent of {o}.", "{o} is a child of {s}.", "{s} has a child, {o}."),
    "award_received": ("{s} received the {o}{y}.", "{s} was awarded the {o}{y}.", "The {o} went to {s}{y}."),
    "signed_to": ("{s} is signed to {o}.", "{s} records for the label {o}.", "{s} has a contract with {o}."),
    "author_of": ("{s} is an author of {o}.", "{o} was written by {s}.", "{s} wrote {o}."),
    "located_in": ("{s} is located in {o}.", "{s} lies in {o}.", "{s} can be found in {o}."),
    "capital": ("The capital of {s} is {o}.", "{o} is the capital city of {s}.", "{s}'s capital is {o}."),
    "twinned_with": ("{s} is twinned with {o}.", "{s} has a sister-city partnership with {o}.", "{s} and {o} are twin towns."),
    "population": ("{s} has a population of {o}.", "The population of {s} is {o}.", "{o} people live in {s}."),
    "address": ("{s} is at {o}.", "The address of {s} is {o}.", "You can find {s} at {o}."),
    "category": ("{s} is {a}.", "{s} is {a} worth knowing.", "As {a}, {s} draws visitors."),
    "rating": ("{s} has an average rating of {o} out of 5.", "Visitors rate {s} {o} out of 5.", "{s} holds a {o}-star average rating."),
    "rating_count": ("{s} has {o} reviews.", "{s} has been reviewed {o} times.", "There are {o} reviews of {s}."),
    "official_language": ("The official language of {s} is {o}.", "{o} is the official language of {s}.", "In {s}, the official language is {o}."),
    "inception": ("{s} was founded {on}.", "{s} was established {on}.", "{s} dates back to its founding {on}."),
    "founded_by": ("{s} was founded by {o}.", "{o} founded {s}.", "{o} is the founder of {s}."),
    "headquartered_in": ("{s} is headquartered in {o}.", "{s} has its head office in {o}.", "The headquarters of {s} are in {o}."),
    "parent_organization": ("{s} is a subsidiary of {o}.", "{s} is owned by {o}.", "{o} is the parent organization of {s}."),
    "industry": ("{s} works in the {o} industry.", "{s} is a {o} business.", "{s} operates in {o}."),
    "employees": ("{s} employs {o} people.", "{s} has {o} employees.", "The workforce of {s} numbers {o}."),
    "students_count": ("{s} has {o} students.", "{s} enrolls {o} students.", "{o} students attend {s}."),
    "publisher": ("{s} is published by {o}.", "{o} is the publisher of {s}.", "{s} was brought out by the publisher {o}."),
    "conferred_by": ("The {s} is conferred by {o}.", "{o} presents the {s}.", "{o} awards the {s}."),
    "award_field": ("The {s} recognizes achievement in {o}.", "The {s} is given for work in {o}.", "The {s} honors {o}."),
    "venue_type": ("{s} is an academic {o}.", "{s} is a scholarly {o}.", "{s} is a {o} for researchers."),
    "point_in_time": ("{s} took place {on}.", "{s} was held {on}.", "{s} happened {on}."),
    "organizer": ("{s} was organized by {o}.", "{o} organized {s}.", "{o} was the organizer of {s}."),
    "participant": ("{o} took part in {s}.", "{o} participated in {s}.", "Among the participants of {s} was {o}."),
    "event_category": ("{s} is {a}.", "{s} is {a} that drew wide attention.", "{s} was {a}."),
    "director": ("{s} was directed by {o}.", "{o} directed {s}.", "{s} is a film by director {o}."),
    "cast_member": ("{o} appears in {s}.", "{s} stars {o}.", "{o} is in the cast of {s}."),
    "screenwriter": ("{s} was written by {o}.", "The screenplay of {s} is by {o}.", "{o} wrote the script for {s}."),
    "production_company": ("{s} was produced by {o}.", "{o} produced {s}.", "{s} is a {o} production."),
    "filming_location": ("{s} was filmed in {o}.", "Shooting for {s} took place in {o}.", "{o} served as a filming location of {s}."),
    "duration": ("{s} runs {o} minutes.", "{s} has a running time of {o} minutes.", "{s} is {o} minutes long."),
    "performer": ("{s} is an album by {o}.", "{o} recorded {s}.", "{s} was performed by {o}."),
    "record_label": ("{s} was released on {o}.", "{s} came out on the {o} label.", "{o} released {s}."),
    "producer": ("{s} was produced by {o}.", "{o} produced {s}.", "{o} is the producer of {s}."),
    "number_of_tracks": ("{s} contains {o} tracks.", "{s} has {o} songs.", "There are {o} tracks on {s}."),
    "number_of_pages": ("{s} has {o} pages.", "{s} runs to {o} pages.", "{s} is {o} pages long."),
    "genre": ("{s} is a work of {o}.", "{s} belongs to the genre {o}.", "The genre of {s} is {o}."),
    "publication_date": ("{s} was released {on}.", "{s} came out {on}.", "{s} was published {on}."),
    "published_in": ("{s} was published in {o}.", "{s} appeared in {o}.", "{o} published {s}."),
    "cites": ("{s} cites {o}.", "{s} builds on the earlier paper {o}.", "{o} is cited by {s}."),
    "citation_count": ("{s} has been cited {o} times.", "{s} has {o} citations.", "{s} is cited by {o} other works."),
    "main_subject": ("{s} is about {o}.", "{s} studies {o}.", "The subject of {s} is {o}."),
}  # fmt: skip

#: Opening words by register; a sentence after one is lower-cased at its first letter only
#: when it starts with a template word (never when it starts with a name).
LEADS: Final[dict[str, tuple[str, ...]]] = {
    "news": ("", "", "Records show that ", "As reported earlier, ", "Sources confirm that "),
    "forum": ("", "Fun fact: ", "Pretty sure ", "For what it's worth, ", "If I remember right, "),
    "homepage": ("", "", "We are proud to say that "),
}

MONTHS: Final = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
