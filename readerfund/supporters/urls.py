from django.urls import URLPattern, URLResolver, path

from readerfund.supporters import documents, page, views
from readerfund.supporters.email_links import email_link
from readerfund.supporters.renewal_link import renewal_card_link

CONTRIBUTION = "account/<slug:slug>/contribution/<int:contribution_id>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("account/<slug:slug>/", views.account_signin, name="supporters-signin"),
    path("account/<slug:slug>/code", views.account_code, name="supporters-code"),
    path("account/<slug:slug>/signin/<str:token>/", views.account_link, name="supporters-link"),
    path("account/<slug:slug>/home/", page.account_home, name="supporters-home"),
    path("account/<slug:slug>/signout", views.account_signout, name="supporters-signout"),
    # The supporter's page: changes to their own contributions, each a POST (supporters/page.py).
    path(f"{CONTRIBUTION}/amount", page.contribution_amount, name="supporters-amount"),
    path(f"{CONTRIBUTION}/pause", page.contribution_pause, name="supporters-pause"),
    path(f"{CONTRIBUTION}/resume", page.contribution_resume, name="supporters-resume"),
    path(f"{CONTRIBUTION}/cancel", page.contribution_cancel, name="supporters-cancel"),
    path(f"{CONTRIBUTION}/card/", page.contribution_card, name="supporters-card"),
    path(f"{CONTRIBUTION}/card/start", page.contribution_card_start, name="supporters-card-start"),
    path(f"{CONTRIBUTION}/card/finish", page.contribution_card_finish, name="supporters-card-finish"),
    path("account/card.js", page.card_js, name="supporters-card-js"),
    # Their papers and their data (supporters/documents.py).
    path("account/<slug:slug>/receipt/<int:payment_id>/", documents.receipt, name="supporters-receipt"),
    path("account/<slug:slug>/statement/<int:year>/", documents.statement, name="supporters-statement"),
    path("account/<slug:slug>/data", documents.data_download, name="supporters-data"),
    path("account/<slug:slug>/erase/", documents.erase, name="supporters-erase"),
    path("account/<slug:slug>/erased/", documents.erased, name="supporters-erased"),
    # Pause and cancel links from the e-mails, without signing in (supporters/email_links.py).
    path("account/<slug:slug>/email/<str:token>/", email_link, name="supporters-email-link"),
    # A failed renewal's e-mail: the way to the card page, through the sign-in (supporters/renewal_link.py).
    path("account/<slug:slug>/renewal/<str:token>/", renewal_card_link, name="supporters-renewal-card"),
]
