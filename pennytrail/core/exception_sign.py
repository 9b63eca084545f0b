"""One sign for the amount of every exception, wherever it is shown.

The ``exceptions`` table keeps each code's own amount (docs/rules.md): a buyer's balance is
owed − paid, a worker's variance paid − funded, a billed mismatch billed − owed. Read side by
side, those put a shortfall on both sides of zero (BUYER_UNDERPAID +$7.50, a worker UNDERPAID
−$1.50). Every page, sheet and line that shows an exception's amount shows it as ``shown``:

- **positive**: money that did not get where the rules say it is due (owed but not paid, held
  by an intermediary, paid to the wrong party, paid by or on something the rules cannot place,
  left out of one side's report, funded but not on a worker's stub);
- **negative**: money paid beyond what was due (a buyer's or a worker's overpayment, premium
  paid for a period with no recorded work, an invoice billed above the rate card).

``LEGEND`` says so in words, and is printed beside every such amount.
"""

from __future__ import annotations

# codes whose stored amount is negative when money is short: turned over to be shown
TURNED = ("BILLED_MISMATCH", "UNPAID", "UNDERPAID", "OVERPAID", "PAID_WITHOUT_WORK")

LEGEND = ("Exception amounts: positive = money short of where it is due (not paid, held, misdirected, "
          "unplaced, left out of a report, or not on pay stubs); negative = paid beyond what was due.")


def shown(code: str, cents: int | None) -> int | None:
    """An exception's amount as shown everywhere: short positive, paid beyond negative."""
    if cents is None:
        return None
    return -int(cents) if code in TURNED else int(cents)


def shown_sql(code: str = "code", amount: str = "amount_cents") -> str:
    """The same, as a SQL expression over an exceptions row's columns."""
    turned = ", ".join(f"'{c}'" for c in TURNED)
    return f"(CASE WHEN {code} IN ({turned}) THEN -{amount} ELSE {amount} END)"
