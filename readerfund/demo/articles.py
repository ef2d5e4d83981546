"""Three sample articles for the demo newsroom's site."""

ARTICLES = {
    1: {
        "section": "politics",
        "title": "Inside the court that tries journalists in absentia",
        "lede": "Three reporters were sentenced this spring without ever being told the charges.",
        "body": [
            "The hearings last less than an hour. The defendants are not in the room; most of them left the "
            "country years ago, and the court knows it.",
            "We spent four months reading the case files that relatives were given, and speaking to lawyers who "
            "are no longer allowed to appear.",
            "What emerges is a procedure designed to be seen, not to be argued with: the verdict is the message.",
        ],
    },
    2: {
        "section": "culture",
        "title": "The bookshop that moved three times in a year",
        "lede": "Its owner packs the shelves in numbered boxes, ready for the next move.",
        "body": [
            "Every shelf has a number painted on its side. Every box has the same number.",
            "The shop has reopened in three cities. Its readers followed it each time.",
        ],
    },
    3: {
        "section": "politics",
        "title": "How a regional paper kept printing after losing its advertisers",
        "lede": "When the last advertiser left, the readers stepped in.",
        "body": [
            "The editor wrote a single paragraph under each article, asking for two dollars a month.",
            "Six months later, a third of the newsroom's budget came from readers.",
        ],
    },
}
