"""Portuguese and English of the sign-up form, the public invoice page and the portal's invoices."""

from __future__ import annotations

from hub.web.i18n import lookup

TEXTS: dict[str, tuple[str, str]] = {
    # key: (pt, en)
    "signup": ("Aderir ao serviço de atendimento", "Sign up for the answering service"),
    "signup_intro": (
        "Atendemos as chamadas da sua empresa em seu nome, em português e inglês. Preencha o formulário: "
        "recebe a fatura de imediato e o serviço fica ativo quando o pagamento chegar.",
        "We answer your company's calls in its name, in Portuguese and English. Fill in the form: you get "
        "the invoice at once and the service starts when the payment arrives.",
    ),
    "company": ("Empresa", "Company"),
    "nif": ("NIF", "VAT number (NIF)"),
    "contact_name": ("Pessoa de contacto", "Contact person"),
    "email": ("Email", "Email"),
    "phone": ("Telefone", "Phone"),
    "plan": ("Plano", "Plan"),
    "plan_option": ("{months} meses — {net} + IVA ({gross})", "{months} months — {net} + VAT ({gross})"),
    "plan_help": (
        "Todo o valor líquido do contrato passa a saldo pré-pago para as chamadas.",
        "The whole net amount of the contract becomes prepaid balance for calls.",
    ),
    "languages": ("Línguas do atendimento", "Languages of the answering"),
    "lang_pt": ("Português", "Portuguese"),
    "lang_en": ("Inglês", "English"),
    "message_option": ("Mensagem gravada fora de horas", "Out-of-hours recorded message"),
    "message_none": ("Sem mensagem", "No message"),
    "message_pt": ("Português ({price}, debitado do saldo)", "Portuguese ({price}, from the balance)"),
    "message_pt+en": (
        "Português e inglês ({price}, debitado do saldo)",
        "Portuguese and English ({price}, from the balance)",
    ),
    "records_email": ("Email para os registos das chamadas", "Email address for call records"),
    "webhook_url": ("Webhook (opcional)", "Webhook (optional)"),
    "webhook_help": (
        "Um endereço https da sua plataforma que recebe cada registo, assinado.",
        "An https address of your platform that receives each record, signed.",
    ),
    "method": ("Pagamento", "Payment"),
    "method_transfer": ("Transferência bancária", "Bank transfer"),
    "method_card": ("Cartão", "Card"),
    "submit_signup": ("Aderir e receber a fatura", "Sign up and get the invoice"),
    "fix_below": ("Corrija os campos assinalados.", "Please correct the fields marked below."),
    "closed": (
        "A adesão online ainda não está disponível. Contacte-nos por telefone ou email.",
        "Online sign-up is not available yet. Please contact us by phone or email.",
    ),
    "too_many_signups": (
        "Demasiadas adesões a partir deste endereço; tente de novo dentro de {s} s.",
        "Too many sign-ups from this address; try again in {s} s.",
    ),
    # Problems, by code (see hub.core.signups.Problem).
    "err_required": ("Campo obrigatório.", "This field is required."),
    "err_too_long": ("Texto demasiado longo.", "Too long."),
    "err_nif_format": ("Um NIF tem 9 dígitos, p. ex. 509999999.", "A NIF has 9 digits, e.g. 509999999."),
    "err_nif_prefix": (
        "Nenhum NIF português começa assim; verifique o número.",
        "No Portuguese NIF starts like this; check the number.",
    ),
    "err_nif_check": (
        "O dígito de controlo não confere: verifique se há um engano no número.",
        "The check digit does not match: check the number for a typo.",
    ),
    "err_email": ("Endereço de email inválido (nome@exemplo.pt).", "Not an email address (name@example.com)."),
    "err_phone": ("Número de telefone inválido.", "Not a valid phone number."),
    "err_plan": ("Escolha um plano.", "Choose a plan."),
    "err_languages": ("Escolha pelo menos uma língua.", "Choose at least one language."),
    "err_message_option": ("Escolha uma opção.", "Choose an option."),
    "err_webhook_url": ("Endereço recusado: {detail}", "Address refused: {detail}"),
    "err_method": ("Escolha a forma de pagamento.", "Choose how to pay."),
    # The public invoice page.
    "your_invoice": ("A sua fatura", "Your invoice"),
    "download_pdf": ("Descarregar PDF", "Download PDF"),
    "pay_by_card": ("Pagar com cartão", "Pay by card"),
    "state_pending": (
        "Assim que o pagamento for recebido, o serviço é ativado e enviamos-lhe por email o seu número de atendimento.",
        "As soon as the payment is received the service is activated and we email you your answering number.",
    ),
    "state_waiting_for_did": (
        "Pagamento recebido. Estamos a atribuir-lhe um número; receberá um email em breve.",
        "Payment received. We are assigning your number; you will get an email shortly.",
    ),
    "state_failed": (
        "Pagamento recebido. A ativação precisa de um passo nosso; receberá um email em breve.",
        "Payment received. Activation needs a step on our side; you will get an email shortly.",
    ),
    "state_active": (
        "Serviço ativo. O seu número de atendimento: {number}",
        "Service active. Your answering number: {number}",
    ),
    "state_cancelled": ("Esta fatura foi anulada.", "This invoice was cancelled."),
    "state_renewed": ("Paga: o contrato foi renovado.", "Paid: the contract is renewed."),
    "webhook_secret": ("Segredo de assinatura do webhook", "Webhook signing secret"),
    "webhook_secret_help": (
        "Guarde-o agora: não volta a ser mostrado. Use-o para verificar a assinatura de cada registo.",
        "Keep it now: it is not shown again. Use it to verify the signature of every record.",
    ),
    # The portal.
    "invoices": ("Faturas", "Invoices"),
    "renew": ("Renovar o contrato", "Renew the contract"),
    "renew_help": (
        "A renovação mantém o número e a mensagem gravada, sem custo; o valor líquido passa a saldo.",
        "A renewal keeps the number and the recorded message at no cost; the net amount becomes balance.",
    ),
    "no_invoices": ("Ainda não há faturas.", "No invoices yet."),
    "number": ("Número", "Number"),
    "total": ("Total", "Total"),
    "inv_issued": ("Por pagar", "Unpaid"),
    "inv_paid": ("Paga", "Paid"),
    "inv_cancelled": ("Anulada", "Cancelled"),
    # The dashboard.
    "signups_payments": ("Adesões e pagamentos", "Sign-ups and payments"),
    "pending_signups": ("Adesões por concluir", "Sign-ups not active yet"),
    "unmatched_payments": ("Pagamentos por identificar", "Unmatched payments"),
    "free_numbers": ("Números livres", "Free numbers"),
}


def text(lang: str, key: str, **values: object) -> str:
    """The sign-up text `key` in `lang` (see `hub.web.i18n.lookup`)."""
    return lookup(TEXTS, lang, key, **values)
