"""Example ideas for a fresh database, so a new user sees a living page."""

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from feedback.db import utcnow
from feedback.models import Status, Submission, Topic, Visibility
from feedback.submissions import NewIdea, create

PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE
APPROVED, PENDING = Status.APPROVED, Status.PENDING

# (topic position, visibility, status, name, website, title, body)
EXAMPLES = [
    (
        0,
        PUBLIC,
        APPROVED,
        "Stacey Rivera",
        "@HealthITgirl",
        "A bloggers' corner with power",
        "Give bloggers a small corner near the exhibit hall with tables, power strips and "
        "decent Wi-Fi. Half of us spend the conference hunting for an outlet.",
    ),
    (
        0,
        PUBLIC,
        APPROVED,
        "Dr. Anil Mehta",
        "https://example.org/anil",
        None,
        "Please don't let the conference blog turn into an echo chamber of press releases.\n\n"
        "Invite two or three practising CIOs to write one honest post each before the event.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Maria Gonzales",
        None,
        "Post slides within a day",
        "Ask every speaker to upload slides within 24 hours. When I blog about a session "
        "I want to link to the deck, not to a photo of the screen.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Tom O'Brien",
        "@tob",
        "One official hashtag per track",
        "One hashtag for the whole event drowns everything. A short tag per track "
        "(#HIMSSinterop, #HIMSSsec) would let lurkers follow just what they care about.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Keisha Brown",
        "https://keisha.example.net",
        "Weekly chat before the event",
        "Run a weekly #HITsm-style chat in the month before the conference so first-timers "
        "can meet people before they arrive. Twitter is about connecting people.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Jürgen Weiß",
        None,
        None,
        "Leave ten minutes at the end of each session for questions from the room AND from "
        "the hashtag. Have a volunteer read out the best online questions.",
    ),
    (
        3,
        PUBLIC,
        APPROVED,
        "Priya Natarajan",
        "@priya@mastodon.social",
        "Quiet room",
        "A quiet room without vendor noise where people can write up their notes would "
        "make the daily blog posts much better.",
    ),
    (
        0,
        PUBLIC,
        APPROVED,
        "Sam Lee",
        None,
        "Live-blogging guidelines",
        "Publish simple guidelines for live-blogging: which sessions allow photos, what is "
        "under embargo, who to ask. It saves awkward moments.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Rachel Kim",
        "https://rachelkim.example.com",
        None,
        "Fewer vendor panels, more case studies from hospitals that tried something and "
        "failed. We learn more from the failures.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Carlos Mendes",
        "@cmendes.bsky.social",
        "Show the backchannel",
        "Put the hashtag stream on a screen in the hallway, moderated. People who are not "
        "on Twitter see what the conversation is about and join in.",
    ),
    (
        3,
        PUBLIC,
        APPROVED,
        "Linda Park",
        None,
        "Meet-ups by role",
        "Informal breakfast meet-ups by role: nurses in informatics, small-practice IT, "
        "software architects. Just a sign on a table is enough.",
    ),
    (
        0,
        PUBLIC,
        APPROVED,
        "Ben Carter",
        "https://bencarter.example.org",
        "Guest posts",
        "Open the conference blog to guest posts from attendees, with light editing. "
        "Readers trust other attendees more than the marketing team.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Olga Petrova",
        None,
        None,
        "Record the sessions and put them online with a transcript. Many of us cannot "
        "travel but would happily blog about the talks.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Marcus Johnson",
        "@mjhealthit",
        "A bloggers' badge ribbon",
        "A small 'blogger' ribbon on the badge makes it easy to find each other in the "
        "crowd. It worked well at a smaller conference last year.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Aisha Bello",
        None,
        "Speaker office hours",
        "Let speakers hold 30-minute office hours after their talk in a side room for "
        "deeper questions, and announce them on the hashtag.",
    ),
    (
        3,
        PUBLIC,
        APPROVED,
        "Henrik Larsen",
        "https://larsen.example.dk",
        None,
        "Post the Wi-Fi password on the badge. Every year we waste the first hour asking.",
    ),
    (
        0,
        PUBLIC,
        APPROVED,
        "Grace Liu",
        None,
        "Daily roundup",
        "A daily roundup post linking to what bloggers wrote that day would give everyone "
        "more readers and show the organisers what resonated.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Daniel Okafor",
        "@dokafor",
        None,
        "Host a tweet-up on the first evening. It does not need to be fancy; a reserved "
        "corner of a bar and a sign is enough to connect people.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Emily Nguyen",
        None,
        "Shorter sessions",
        "Try some 20-minute talks. An hour-long slot for a single case study is too long, "
        "and shorter talks are easier to blog about.",
    ),
    (
        3,
        PUBLIC,
        APPROVED,
        "Frank Moreau",
        None,
        None,
        "A public map of the exhibit hall before the event so we can plan which booths "
        "to visit and write about.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Victor Hugo Silva",
        None,
        "Interoperability demo floor",
        "Keep the interoperability showcase, but let bloggers walk through it with an engineer "
        "before the crowds arrive so we can explain it properly to our readers.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Nadia Rahman",
        "@nadiarahman",
        None,
        "Share the official photos under a Creative Commons licence so bloggers can use them "
        "without asking each time.",
    ),
    (
        0,
        PUBLIC,
        APPROVED,
        "Oliver Grant",
        "https://grant.example.net",
        "Pre-conference reading",
        "Ask each keynote speaker for three links worth reading before their talk, and publish "
        "the list on the conference blog a week ahead.",
    ),
    (
        3,
        PUBLIC,
        APPROVED,
        "Fatima Zahra",
        None,
        "Childcare",
        "Offer childcare, even a small room for a few hours a day. It would let more clinicians "
        "with young children attend.",
    ),
    (
        1,
        PUBLIC,
        APPROVED,
        "Peter Novak",
        None,
        None,
        "Publish session abstracts with a clear level (beginner, practitioner, expert). I walked "
        "out of two sessions last year that were far too basic.",
    ),
    (
        2,
        PUBLIC,
        APPROVED,
        "Yuki Sato",
        "@yukisato",
        "Live Q&A on the hashtag",
        "During the keynote, let a moderator pick three questions from the hashtag. People "
        "watching from home would feel part of it.",
    ),
    (
        0,
        PUBLIC,
        APPROVED,
        "Chloe Dubois",
        None,
        "Interviews with first-timers",
        "Interview a few first-time attendees each day on the blog. Their view is fresher than "
        "ours and it helps next year's newcomers.",
    ),
    (
        3,
        PUBLIC,
        APPROVED,
        "Ahmed Karim",
        "https://karim.example.org",
        None,
        "Put water stations next to the session rooms, not only in the food court.",
    ),
    (
        1,
        PUBLIC,
        PENDING,
        "Noah Williams",
        None,
        "Patient voices",
        "Invite patients to speak in the keynote, not only in a side track.",
    ),
    (
        2,
        PUBLIC,
        PENDING,
        "Sophie Martin",
        "@sophiem",
        None,
        "Could the organisers follow back the bloggers' accounts? It helps with DMs.",
    ),
    (
        0,
        PRIVATE,
        PENDING,
        "A. CIO",
        None,
        "About last year's press room",
        "Last year the press room turned away bloggers who had registered as press. "
        "I'd rather not say this publicly, but please fix the accreditation rules.",
    ),
    (
        1,
        PRIVATE,
        PENDING,
        "Jane Doe",
        None,
        "Speaker conflict of interest",
        "One of last year's 'independent' speakers was paid by the vendor whose product "
        "he praised. A disclosure slide should be mandatory.",
    ),
    (
        3,
        PRIVATE,
        PENDING,
        "Robert Chen",
        "https://rchen.example.com",
        None,
        "I could sponsor a small bloggers' lounge through my company; happy to discuss "
        "privately with the organisers.",
    ),
    (
        2,
        PRIVATE,
        PENDING,
        "Hannah Schmidt",
        None,
        "Accessibility",
        "The captioning in the main hall did not work for most of day two. I am deaf and "
        "missed the keynote. Please check the setup before the opening.",
    ),
    (
        0,
        PRIVATE,
        PENDING,
        "Luis Fernández",
        None,
        None,
        "I'd like to write for the official blog but my employer must approve first. "
        "Could you contact me once you have a plan?",
    ),
    (
        1,
        PRIVATE,
        PENDING,
        "Mei Tanaka",
        None,
        "Session proposal",
        "I have data on telehealth adoption in rural clinics that has not been published "
        "yet. Would a late-breaking session be possible?",
    ),
]


class NotEmptyError(RuntimeError):
    """The database already holds ideas and the caller did not ask to add more."""


def fill(session: Session, secret_key: str, force: bool = False) -> int:
    """Add the examples, spread over the last three weeks; return how many were added."""
    if not force and session.scalar(sa.select(sa.func.count()).select_from(Submission)):
        raise NotEmptyError("The database already has ideas; use --force to add examples.")
    topics = list(session.scalars(sa.select(Topic).order_by(Topic.position, Topic.id)))
    if not topics:
        raise NotEmptyError("There are no topics yet; run `flask db upgrade` first.")
    now = utcnow()
    for n, (position, visibility, status, name, website, title, body) in enumerate(EXAMPLES):
        idea = NewIdea(
            visibility=visibility,
            author_name=name,
            email=f"reader{n + 1}@example.org",
            topic_id=topics[position % len(topics)].id,
            body=body,
            website=website,
            title=title,
            consent_to_publish=n % 3 == 0,
        )
        # Examples arrive over the last three weeks; approved ones as if auto-approved.
        created = now - timedelta(hours=12 * (len(EXAMPLES) - n), minutes=7 * n)
        create(
            session,
            idea,
            secret_key=secret_key,
            auto_approve_public=status is APPROVED,
            now=created,
        )
    return len(EXAMPLES)
