"""Portuguese and English for the pages: by the browser's language, switchable with a cookie."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("pt", "en")
LANG_COOKIE = "recado_lang"

TEXTS: dict[str, tuple[str, str]] = {
    # key: (pt, en)
    "login": ("Entrar", "Log in"),
    "logout": ("Sair", "Log out"),
    "token": ("Token de acesso", "Access token"),
    "login_help": ("Cole o token que o operador lhe enviou.", "Paste the token the operator sent you."),
    "bad_login": ("Token desconhecido ou revogado.", "Unknown or revoked token."),
    "bad_link": ("Ligação já usada, expirada ou desconhecida.", "Link already used, expired or unknown."),
    "link_help": ("Esta ligação abre uma sessão uma única vez.", "This link opens a session once."),
    "too_many": ("Demasiadas tentativas; aguarde {s} s.", "Too many attempts; wait {s} s."),
    "balance": ("Saldo", "Balance"),
    "calls_month": ("Chamadas este mês", "Calls this month"),
    "next_call": ("Preço da próxima chamada", "Price of the next call"),
    "contract_end": ("Fim do contrato", "Contract ends"),
    "no_contract": ("sem contrato", "no contract"),
    "interrupted": ("Serviço suspenso por falta de saldo", "Service interrupted: balance too low"),
    "active": ("Serviço ativo", "Service active"),
    "records": ("Registos", "Records"),
    "search": ("Procurar", "Search"),
    "export_csv": ("Exportar CSV", "Export CSV"),
    "disposition": ("Resultado", "Disposition"),
    "caller": ("Quem ligou", "Caller"),
    "when": ("Quando", "When"),
    "agent": ("Agente", "Agent"),
    "answers": ("Respostas", "Answers"),
    "deliveries": ("Entregas", "Deliveries"),
    "destination": ("Destino", "Destination"),
    "destinations": ("Destinos", "Destinations"),
    "status": ("Estado", "Status"),
    "attempts": ("Tentativas", "Attempts"),
    "replay": ("Reenviar", "Replay"),
    "statement": ("Extrato", "Statement"),
    "amount": ("Valor", "Amount"),
    "balance_after": ("Saldo após", "Balance after"),
    "kind": ("Tipo", "Kind"),
    "mapping": ("Mapeamento de campos", "Field mapping"),
    "preview": ("Pré-visualizar", "Preview"),
    "send_test": ("Enviar registo de teste", "Send test record"),
    "save": ("Guardar", "Save"),
    "saved": ("Guardado.", "Saved."),
    "settings": ("Definições", "Settings"),
    "no_records": ("Ainda não há registos.", "No records yet."),
    "overview": ("Resumo", "Overview"),
    "blocked": ("Números bloqueados", "Blocked numbers"),
    "block": ("Bloquear", "Block"),
    "dashboard": ("Painel do operador", "Operator dashboard"),
    "live_calls": ("Chamadas em curso", "Live calls"),
    "agents": ("Agentes", "Agents"),
    "outbox": ("Fila de entregas", "Outbox"),
    "dead_letters": ("Entregas falhadas", "Dead letters"),
    "attention": ("Clientes a acompanhar", "Clients needing attention"),
    "topup": ("Carregar saldo", "Top up"),
    "client": ("Cliente", "Client"),
    "demo_call": ("Chamada de demonstração", "Demo call"),
    "place_call": ("Ligar", "Call"),
    "console": ("Consola do agente", "Agent console"),
    "available": ("Disponível", "Available"),
    "on_break": ("Pausa", "Break"),
    "logged_out": ("Desligado", "Logged out"),
    "incoming": ("Chamada a entrar", "Incoming call"),
    "answer": ("Atender", "Answer"),
    "greeting": ("Saudação", "Greeting"),
    "history": ("Histórico com este cliente", "History with this client"),
    "submit": ("Concluir chamada", "Finish call"),
    "spam": ("Spam", "Spam"),
    "blocked_numbers": ("Números bloqueados", "Blocked numbers"),
    "block_number": ("Bloquear o número", "Block the number"),
    "unblock": ("Desbloquear", "Unblock"),
    "wrong_number": ("Número errado", "Wrong number"),
    "waiting": ("À espera de chamadas…", "Waiting for calls…"),
    "none": ("nenhum", "none"),
    "required": ("obrigatório", "required"),
    "yes": ("Sim", "Yes"),
    "no": ("Não", "No"),
}


def language(request: Request) -> str:
    """The page language: the cookie if set, else the first of Accept-Language we speak, else PT."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return str(chosen)
    header = request.headers.get("accept-language", "")
    ranked = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((quality, tag.strip().lower()[:2]))
    for _quality, code in sorted(ranked, key=lambda item: -item[0]):
        if code in LANGUAGES:
            return code
    return "pt"


def translate(lang: str, key: str, **values: object) -> str:
    """The text `key` in `lang` (the key itself when missing, so a gap shows rather than breaks)."""
    pair = TEXTS.get(key)
    text = key if pair is None else pair[LANGUAGES.index(lang) if lang in LANGUAGES else 0]
    return text.format(**values) if values else text
