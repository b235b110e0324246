"""Describe answers of the fake org, shaped like Salesforce's `sobjects/X/describe`."""

from __future__ import annotations

from typing import Any

#: The external id field an admin creates for Recado (on Activity and Lead).
RECADO_FIELD = "Recado_Record_Id__c"
KEY_PREFIXES = {"Task": "00T", "Contact": "003", "Lead": "00Q", "Case": "500", "User": "005"}

_SOAP_TYPES = {
    "id": "tns:ID", "reference": "tns:ID", "string": "xsd:string", "textarea": "xsd:string",
    "phone": "xsd:string", "email": "xsd:string", "picklist": "xsd:string",
    "combobox": "xsd:string", "date": "xsd:date", "datetime": "xsd:dateTime",
    "int": "xsd:int", "boolean": "xsd:boolean",
}


def field(
    name: str,
    type_: str,
    label: str,
    *,
    length: int = 0,
    createable: bool = True,
    updateable: bool = True,
    nillable: bool = True,
    external_id: bool = False,
    unique: bool = False,
    reference_to: tuple[str, ...] = (),
    relationship: str | None = None,
    picklist: tuple[str, ...] = (),
    restricted: bool = False,
    defaulted: bool = False,
) -> dict[str, Any]:
    """One entry of a describe's `fields` list, with the keys Salesforce returns."""
    return {
        "aggregatable": type_ not in ("textarea",),
        "autoNumber": False,
        "byteLength": length * 3,
        "calculated": False,
        "caseSensitive": False,
        "createable": createable,
        "custom": name.endswith("__c"),
        "defaultValue": None,
        "defaultedOnCreate": defaulted or not createable,
        "digits": 9 if type_ == "int" else 0,
        "externalId": external_id,
        "filterable": type_ != "textarea",
        "groupable": type_ not in ("textarea", "datetime"),
        "idLookup": type_ == "id" or external_id,
        "label": label,
        "length": length,
        "name": name,
        "nameField": False,
        "nillable": nillable,
        "picklistValues": [
            {"active": True, "defaultValue": i == 0, "label": v, "validFor": None, "value": v}
            for i, v in enumerate(picklist)
        ],
        "precision": 0,
        "referenceTo": list(reference_to),
        "relationshipName": relationship,
        "restrictedPicklist": restricted,
        "scale": 0,
        "soapType": _SOAP_TYPES.get(type_, "xsd:string"),
        "sortable": type_ != "textarea",
        "type": type_,
        "unique": unique,
        "updateable": updateable,
    }


def _common(sobject: str, label: str) -> list[dict[str, Any]]:
    return [
        field("Id", "id", f"{label} ID", length=18, createable=False, updateable=False,
              nillable=False),
        field("OwnerId", "reference", "Owner ID", length=18, reference_to=("User",),
              relationship="Owner", defaulted=True),
        field("CreatedDate", "datetime", "Created Date", createable=False, updateable=False),
        field("LastModifiedDate", "datetime", "Last Modified Date", createable=False,
              updateable=False),
        field(RECADO_FIELD, "string", "Recado Record Id", length=64, external_id=True,
              unique=True),
    ]


def _sobject(name: str, label: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    base = "/services/data/v62.0/sobjects/" + name
    return {
        "name": name, "label": label, "labelPlural": label + "s",
        "keyPrefix": KEY_PREFIXES[name], "custom": False, "createable": True,
        "updateable": True, "deletable": True, "queryable": True, "searchable": True,
        "fields": _common(name, label) + fields,
        "childRelationships": [], "recordTypeInfos": [],
        "urls": {"sobject": base, "describe": base + "/describe", "rowTemplate": base + "/{ID}"},
    }


def describes() -> dict[str, dict[str, Any]]:
    """Fresh describe answers for Task, Contact, Lead and Case."""
    task = _sobject("Task", "Task", [
        field("WhoId", "reference", "Name ID", length=18, reference_to=("Contact", "Lead"),
              relationship="Who"),
        field("WhatId", "reference", "Related To ID", length=18, reference_to=("Account",),
              relationship="What"),
        field("Subject", "combobox", "Subject", length=255, picklist=("Call", "Send Letter")),
        field("ActivityDate", "date", "Due Date Only"),
        field("Status", "picklist", "Status", length=255, nillable=False, defaulted=True,
              picklist=("Not Started", "In Progress", "Completed", "Waiting on someone else",
                        "Deferred"), restricted=True),
        field("Priority", "picklist", "Priority", length=40, nillable=False, defaulted=True,
              picklist=("High", "Normal", "Low"), restricted=True),
        field("Description", "textarea", "Description", length=32000),
        field("CallDurationInSeconds", "int", "Call Duration"),
        field("CallType", "picklist", "Call Type", length=40,
              picklist=("Internal", "Inbound", "Outbound"), restricted=True),
        field("CallDisposition", "string", "Call Result", length=255),
        field("CallObject", "string", "Call Object Identifier", length=255),
        field("TaskSubtype", "picklist", "Task Subtype", length=40, updateable=False,
              picklist=("Task", "Email", "Call")),
        field("IsClosed", "boolean", "Closed", createable=False, updateable=False,
              nillable=False),
    ])
    person = [
        field("FirstName", "string", "First Name", length=40),
        field("LastName", "string", "Last Name", length=80, nillable=False),
        field("Phone", "phone", "Business Phone", length=40),
        field("MobilePhone", "phone", "Mobile Phone", length=40),
        field("Email", "email", "Email", length=80),
        field("Description", "textarea", "Description", length=32000),
    ]
    contact = _sobject("Contact", "Contact", [*person])
    lead = _sobject("Lead", "Lead", [
        *person,
        field("Company", "string", "Company", length=255, nillable=False),
        field("LeadSource", "picklist", "Lead Source", length=255,
              picklist=("Web", "Phone Inquiry", "Partner Referral", "Other")),
        field("Status", "picklist", "Status", length=255, nillable=False, defaulted=True,
              picklist=("Open - Not Contacted", "Working - Contacted", "Closed - Converted")),
        field("IsConverted", "boolean", "Converted", createable=False, updateable=False,
              nillable=False),
    ])
    case = _sobject("Case", "Case", [
        field("Subject", "string", "Subject", length=255),
        field("Description", "textarea", "Description", length=32000),
        field("Origin", "picklist", "Case Origin", length=255, picklist=("Phone", "Email", "Web")),
        field("SuppliedPhone", "string", "Web Phone", length=40),
        field("ContactId", "reference", "Contact ID", length=18, reference_to=("Contact",),
              relationship="Contact"),
    ])
    return {"Task": task, "Contact": contact, "Lead": lead, "Case": case}


def required_on_create(describe: dict[str, Any]) -> list[str]:
    """Fields a new record must set: not nillable, createable, without a default."""
    return [f["name"] for f in describe["fields"]
            if not f["nillable"] and f["createable"] and not f["defaultedOnCreate"]
            and f["type"] != "boolean"]
