"""The demo's data: the requests, approaches, usage objects (as the SDKs return
them) and the code that a small team of agents produces in `debugloop demo`."""

from __future__ import annotations

FIRST_REQUEST = "Fix the failing test tests/test_invoice.py::test_total_with_discount"
SIMILAR_REQUEST = "Fix the failing test tests/test_orders.py::test_total_with_discount"
FIRST_APPROACH = "patch the rounding in invoice.total()"
FIX_APPROACH = "use Decimal for money in invoice.total()"
FLOAT_APPROACH = "round the float total with round(x, 2)"
ASSERTION = "assert 107.99 == 108.0"
SIMILAR_ERROR = "AssertionError: assert 99.5 == 100.0"

# an OpenAI chat completion with cached prompt tokens, and an Anthropic message with cache reads and writes
OPENAI_RESPONSE = {
    "id": "chatcmpl-demo",
    "model": "gpt-4o",
    "usage": {"prompt_tokens": 18_250, "completion_tokens": 1_140, "prompt_tokens_details": {"cached_tokens": 12_800}},
}
ANTHROPIC_MESSAGE = {
    "id": "msg_demo",
    "model": "claude-sonnet-4-5",
    "usage": {
        "input_tokens": 2_310,
        "output_tokens": 1_905,
        "cache_read_input_tokens": 16_400,
        "cache_creation_input_tokens": 3_100,
    },
}

STF_PROBLEM = "sum the line items of a bill with a discount, without floating point rounding errors"
MANIFEST_PROBLEM = "The discounted invoice total is one cent off: fix the rounding"
IMPORTED_PROBLEM = "Create a notebook to test each step of turning word embeddings into music"

INVOICE_PY = '''"""Invoice arithmetic, exact to the cent."""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def invoice_total(lines, discount_rate=Decimal("0")):
    """The total of an invoice: quantity times unit price for each line, less the
    discount, rounded half up to the cent. Decimal throughout: no float error."""
    subtotal = sum((Decimal(str(qty)) * Decimal(str(price)) for qty, price in lines), Decimal("0"))
    total = subtotal * (1 - Decimal(str(discount_rate)))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount, currency="EUR"):
    """An amount with two decimals and its currency code."""
    return f"{Decimal(amount).quantize(CENT):,} {currency}"
'''

# (agent, agent type, request): four agents at four wordings of one task
TEAM = (
    ("demo-fixer", "fixer", "Fix the rounding error in the invoice total when a discount applies"),
    ("demo-tester", "tester", "Make test_invoice_total_with_discount pass: the invoice total is off by a cent"),
    ("demo-reviewer", "reviewer", "The invoice total with a discount is off by one cent; fix the rounding"),
    ("demo-refactorer", "refactorer", "Fix the invoice total rounding bug for discounted invoices"),
)
TEAM_FAILED_USAGE = {"input_tokens": 6_200, "output_tokens": 1_450, "cache_read_input_tokens": 9_800}
TEAM_FIXED_USAGE = {"prompt_tokens": 7_400, "completion_tokens": 1_300}
PLANNER_REQUESTS = (
    "Round invoice totals half up to the cent",
    "Invoice totals must round half up to the cent, not down",
)
PLANNER_USAGE = {"input_tokens": 5_900, "output_tokens": 1_200}

# the bundled logs: (format, the model of logs that name none)
IMPORTS = (("claude-code", None), ("swe-agent", "gpt-4-1106-preview"), ("openhands", None))
IMPORTED_AGENTS = ("claude-code", "swe-agent", "openhands")

# Claude Code's hooks: a prompt like one of the bundled session whose `python model_comparison.py`
# failed on a missing module (fixed by installing the requirements), a failed Edit, and an unrelated prompt
HOOK_SESSION = "7c1d5e2a-demo-hooks"
HOOK_PROJECT = "/home/demo/ai-music"
HOOK_FAILED_REQUEST = "help me find models where the embeddings have more diverse values"
HOOK_PROMPT = "find me models whose embeddings give more diverse values"
HOOK_FAILURE = {
    "tool_name": "Edit",
    "tool_input": {
        "file_path": "/home/demo/ai-music/diverse_musical_ai.py",
        "old_string": "def main():",
        "new_string": "...",
    },
    "tool_use_id": "toolu_demo",
    "error": "<tool_use_error>String to replace not found in file.\nString: def main():</tool_use_error>",
    "is_interrupt": False,
}
HOOK_UNRELATED = "What is the capital of France?"
