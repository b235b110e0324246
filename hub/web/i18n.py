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
    "invoices": ("Faturas", "Invoices"),
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
    "monthly_report": ("Relatório mensal", "Monthly report"),
    "monthly_reports": ("Relatórios mensais", "Monthly reports"),
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
    # outbound campaigns (the portal's Campaigns page)
    "campaigns": ("Campanhas", "Campaigns"),
    "campaigns_intro": (
        "Envie uma lista de marcações: lembramos cada pessoa por telefone ou SMS, das 9h às 20h, "
        "de segunda a sábado (exceto feriados).",
        "Upload a list of appointments: we remind each person by phone or SMS, 9:00 to 20:00, "
        "Monday to Saturday (except public holidays).",
    ),
    "campaign_new": ("Nova campanha", "New campaign"),
    "campaign_name": ("Nome da campanha", "Campaign name"),
    "campaign_file": ("Ficheiro de contactos (CSV)", "Contacts file (CSV)"),
    "campaign_file_help": (
        "Colunas name, number, appointment, language (pt ou en) e channel (phone ou sms), separadas por vírgula "
        "ou ponto e vírgula, em UTF-8. Datas em hora de Lisboa.",
        "Columns name, number, appointment, language (pt or en) and channel (phone or sms), separated by commas "
        "or semicolons, in UTF-8. Times in Lisbon time.",
    ),
    "campaign_template_pt": ("Mensagem em português", "Message in Portuguese"),
    "campaign_template_en": ("Mensagem em inglês", "Message in English"),
    "campaign_template_help": ("Pode usar:", "You may use:"),
    "campaign_mode": ("Contactos por telefone", "Phone contacts"),
    "campaign_mode_agent": ("Um agente liga e regista a resposta", "An agent calls and records the answer"),
    "campaign_mode_message": ("Ouvem a mensagem gravada", "They hear the recorded message"),
    "campaign_upload": ("Enviar campanha", "Upload campaign"),
    "campaign_saved": ("Campanha guardada.", "Campaign saved."),
    "campaign_refused": (
        "O ficheiro foi recusado ({n} problemas); nada foi guardado:",
        "The file was refused ({n} problems); nothing was stored:",
    ),
    "campaign_none": ("Ainda não há campanhas.", "No campaigns yet."),
    "campaign_contacts": ("Contactos", "Contacts"),
    "campaign_not_made": ("Não feitos", "Not made"),
    "campaign_spent": ("Custo", "Cost"),
    "campaign_person": ("Pessoa", "Person"),
    "campaign_number": ("Número", "Number"),
    "campaign_appointment": ("Marcação", "Appointment"),
    "campaign_channel": ("Canal", "Channel"),
    "campaign_channel_phone": ("Telefone", "Phone"),
    "campaign_channel_sms": ("SMS", "SMS"),
    "campaign_active": ("Ativa", "Active"),
    "campaign_cancelled": ("Cancelada", "Cancelled"),
    "contact_pending": ("Por fazer", "To do"),
    "contact_in_progress": ("Em curso", "In progress"),
    "contact_sent": ("SMS enviado", "SMS sent"),
    "contact_delivered": ("SMS entregue", "SMS delivered"),
    "contact_failed": ("SMS falhado", "SMS failed"),
    "contact_confirmed": ("Confirmada", "Confirmed"),
    "contact_rescheduled": ("Remarcada", "Rescheduled"),
    "contact_no_answer": ("Sem resposta", "No answer"),
    "contact_message_played": ("Mensagem ouvida", "Message played"),
    "contact_opted_out": ("Não quer ser contactado", "Opted out"),
    "contact_skipped": ("Não feito", "Skipped"),
    # the console's Tasks panel (campaign phone contacts)
    "tasks": ("Tarefas", "Tasks"),
    "task_mine": ("A sua tarefa em curso", "Your task in progress"),
    "task_contact": ("Contacto", "Contact"),
    "task_appointment": ("Marcação", "Appointment"),
    "task_language": ("Língua", "Language"),
    "task_script": ("Guião", "Script"),
    "task_number": ("Número", "Number"),
    "task_call": ("Chamada", "Call"),
    "task_call_next": ("Ligar ao próximo", "Call next"),
    "task_call_again": ("Ligar de novo", "Call again"),
    "task_give_back": ("Devolver à lista", "Give back"),
    "task_notes": ("Notas", "Notes"),
    "task_new_time": ("Nova data e hora", "New date and time"),
    "task_recorded": ("Registado", "Recorded"),
    "task_messages_due": ("Mensagens gravadas por reproduzir", "Recorded messages to play"),
    "task_play_now": ("Reproduzir agora (demonstração)", "Play now (demo)"),
    "no_tasks": ("Não há contactos por fazer.", "No contacts to make."),
    "task_saved": ("Resultado registado.", "Outcome recorded."),
    "task_released": ("Tarefa devolvida à lista.", "Task given back."),
    "messages_played": ("Mensagens reproduzidas.", "Messages played."),
    "dial_idle": ("Por ligar", "Not called yet"),
    "dial_dialling": ("A chamar o seu telefone…", "Ringing your phone…"),
    "dial_ringing": ("A chamar a pessoa…", "Ringing the person…"),
    "dial_answered": ("Em chamada", "On the call"),
    "dial_ended": ("Chamada terminada", "Call ended"),
    "dial_failed": ("A pessoa não atendeu", "The person did not answer"),
    "dial_not_placed": ("O seu telefone não atendeu; nada foi marcado", "Your phone did not answer; nobody was called"),
    "outcome_confirmed": ("Confirmou", "Confirmed"),
    "outcome_rescheduled": ("Remarcou", "Rescheduled"),
    "outcome_no_answer": ("Não atendeu", "No answer"),
    "outcome_message_played": ("Mensagem reproduzida", "Message played"),
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


def lookup(table: dict[str, tuple[str, str]], lang: str, key: str, **values: object) -> str:
    """The text `key` of a `(pt, en)` table in `lang` (Portuguese unless "en"), `values` filled in.

    A missing key gives the key itself, so that a gap shows on the page rather than breaks it.
    """
    pair = table.get(key)
    text = key if pair is None else pair[LANGUAGES.index(lang) if lang in LANGUAGES else 0]
    return text.format(**values) if values else text


def translate(lang: str, key: str, **values: object) -> str:
    """The page text `key` in `lang` (see `lookup`)."""
    return lookup(TEXTS, lang, key, **values)
