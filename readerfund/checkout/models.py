from django.db import models


class DefenceCount(models.Model):
    """How often the card-testing defence acted at a newsroom on one day, by kind (checkout/card_testing.py
    KINDS): an aggregate for the dashboard, never a row about a reader, an address or a card."""

    newsroom = models.ForeignKey("newsrooms.Newsroom", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["newsroom", "day", "kind"], name="defence_count_unique")]
