"""Campaigns and their variants, the published appeals document the embed reads, and its aggregate events.

Touches no money: amounts are rules here (core/amounts.py), payments happen in checkout/ and payments/."""
