"""The original "金融消息" Jekyll site's format, in one package (#16): posts read
(:mod:`.read`) and written (:mod:`.write`), category slugs (:mod:`.slug`), posts imported
into the store (:mod:`.importer`) and the store exported as posts (:mod:`.export`).

Two kinds of post exist.  *Media news* (categories = pinyin slug of the media):

    <front matter><body HTML>⏎⏎<share link>⏎⏎
    [返回X新闻](site/category/slug.html)｜[返回首页](site/)

*Rolling news* (categories = ``emnews``), latest layout:

    <front matter>> digest⏎⏎<body HTML>⏎⏎<article URL>⏎⏎
    [返回东财滚动新闻](site/emnews/)｜[返回首页](site/)

(⏎ is a newline; the last line has none; the back-links are one line.)

Older rolling layouts put the digest as a plain paragraph, had no body, put
the back-links on two lines or left them out, and used other site domains.
All of them parse; :func:`~.write.render_post` always writes the latest layout, and a
post already in it round-trips byte for byte.  Reading and writing are pure; only
the importer and the exporter do I/O.
"""

JEKYLL_SOURCE = "jekyll"
ROLLING_TAG = "东财滚动新闻"
DEFAULT_ROLLING_MEDIA = "东方财富"
