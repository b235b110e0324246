"""The applicant's payment pages in Portuguese and English."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, tuple[str, str]] = {
    # key: (pt, en)
    "paid_title": ("Pagamento recebido", "Payment received"),
    "paid": ("Obrigado! A fatura {number} está paga.", "Thank you! Invoice {number} is paid."),
    "activated": (
        "O serviço está ativo no número {did}. Enviámos-lhe um email com tudo o que precisa.",
        "The service is active on number {did}. We sent you an email with everything you need.",
    ),
    "renewed": ("O contrato foi renovado até {ends}.", "The contract is renewed until {ends}."),
    "finishing": (
        "Estamos a concluir a ativação e enviamos-lhe um email assim que estiver pronta.",
        "We are finishing the activation and will email you as soon as it is ready.",
    ),
    "pending_title": ("Pagamento por confirmar", "Payment not confirmed yet"),
    "pending": (
        "O pagamento da fatura {number} ainda não está confirmado. Se já pagou, a confirmação chega em "
        "poucos minutos e avisamos por email; pode também recarregar esta página.",
        "The payment of invoice {number} is not confirmed yet. If you have paid, the confirmation arrives "
        "within minutes and we will tell you by email; you can also reload this page.",
    ),
    "review_title": ("Pagamento em verificação", "Payment being checked"),
    "review": (
        "O valor pago não corresponde ao total da fatura {number}. Vamos verificar e contactá-lo.",
        "The amount paid does not match the total of invoice {number}. We will check it and contact you.",
    ),
    "unavailable_title": ("Pagamento por cartão indisponível", "Card payment unavailable"),
    "unavailable": (
        "De momento não é possível pagar por cartão. Pode pagar por transferência bancária com os dados da fatura.",
        "Card payment is not available right now. You can pay by bank transfer with the details on the invoice.",
    ),
    "provider_down_title": ("Serviço de pagamentos indisponível", "Payment service unavailable"),
    "provider_down": (
        "O serviço de pagamentos não respondeu. Tente de novo dentro de alguns minutos, ou pague por transferência.",
        "The payment service did not answer. Try again in a few minutes, or pay by bank transfer.",
    ),
    "unknown_title": ("Ligação desconhecida", "Unknown link"),
    "unknown": (
        "Esta ligação não corresponde a nenhuma fatura. Use a ligação do email que recebeu.",
        "This link does not match any invoice. Use the link in the email you received.",
    ),
    "cancelled_title": ("Fatura anulada", "Invoice cancelled"),
    "cancelled": (
        "A fatura {number} foi anulada e já não pode ser paga. Se pagou, contactamo-lo para devolver o valor.",
        "Invoice {number} was cancelled and can no longer be paid. If you paid, we will contact you to refund it.",
    ),
    "mismatch_title": ("Pagamento de outra fatura", "Payment of another invoice"),
    "mismatch": (
        "Este pagamento não pertence à fatura {number}. Use a ligação do email que recebeu.",
        "This payment does not belong to invoice {number}. Use the link in the email you received.",
    ),
    "invoice": ("Fatura", "Invoice"),
    "amount": ("Valor", "Amount"),
    "see_invoice": ("Ver a fatura", "See the invoice"),
    "try_again": ("Tentar de novo", "Try again"),
}
#: Outcomes shown as problems.
PROBLEMS = frozenset({"unknown", "mismatch", "unavailable", "provider_down", "cancelled", "review"})


def text(lang: str, key: str, **values: Any) -> str:
    """Text `key` in `lang` (Portuguese unless "en"), with `values` filled in."""
    pt, en = TEXTS[key]
    return (en if lang == "en" else pt).format(**values)
