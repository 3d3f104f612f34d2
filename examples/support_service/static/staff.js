"use strict";
// The staff page: the calls waiting for a decision across customers (refreshed every few seconds), each approved
// or denied here, and the latest decisions with who made them and when.
const $ = (selector) => document.querySelector(selector);
const REFRESH_MS = 3000;
let me = null;  // {name, csrf_token} of the signed-in staff member
let refresher = null;
const deciding = new Set();  // "customer/tool call id" of the rows being decided from this page

const when = (iso) => iso ? new Date(iso).toLocaleString() : "";

function cell(row, text, code = false) {
  const td = row.insertCell();
  if (code) {
    const element = document.createElement("code");
    element.textContent = text;
    td.append(element);
  } else td.textContent = text;
  return td;
}

function waitingRow(call) {
  const row = document.createElement("tr");
  const key = `${call.customer_id}/${call.tool_call_id}`;
  row.dataset.customer = call.customer_id;
  row.dataset.id = call.tool_call_id;
  cell(row, call.customer_id);
  cell(row, call.name, true);
  cell(row, call.arguments, true);
  cell(row, when(call.requested_at));
  const actions = cell(row, "");
  actions.className = "actions";
  for (const [label, approved] of [["Approve", true], ["Deny", false]]) {
    const button = document.createElement("button");
    button.textContent = label;
    button.className = approved ? "primary approve" : "deny";
    button.disabled = deciding.has(key);
    button.onclick = () => decide(call, approved, row);
    actions.append(button);
  }
  return row;
}

async function decide(call, approved, row) {
  const key = `${call.customer_id}/${call.tool_call_id}`;
  deciding.add(key);
  for (const button of row.querySelectorAll("button")) button.disabled = true;
  const outcome = document.createElement("span");
  outcome.className = "outcome";
  outcome.textContent = approved ? "Approving…" : "Denying…";
  row.lastChild.append(outcome);
  const path = `/api/customers/${encodeURIComponent(call.customer_id)}/approvals`;
  await postEvents(path, {decisions: {[call.tool_call_id]: approved}}, me.csrf_token, {
    tool_result: ({id, content}) => { if (id === call.tool_call_id) outcome.textContent = content; },
    error: ({message}) => { outcome.textContent = message; },
  }).catch((error) => { outcome.textContent = "Connection lost: " + error.message; });
  deciding.delete(key);
  refresh();
}

function decidedRow(call) {
  const row = document.createElement("tr");
  cell(row, call.customer_id);
  cell(row, call.name, true);
  cell(row, call.arguments, true);
  cell(row, call.approved ? "approved" : "denied").className = call.approved ? "approved" : "denied";
  cell(row, call.decided_by);
  cell(row, when(call.decided_at));
  return row;
}

async function refresh() {
  clearTimeout(refresher);
  const {ok, status, data} = await jsonRequest("GET", "/api/approvals");
  if (status === 401 || status === 403) return start();
  if (ok) {
    const rows = $("#waiting tbody");
    // Rows being decided here stay as they are (with their outcome) until the next refresh after the decision.
    const keep = new Map([...rows.children].filter((row) => deciding.has(`${row.dataset.customer}/${row.dataset.id}`))
                        .map((row) => [`${row.dataset.customer}/${row.dataset.id}`, row]));
    rows.replaceChildren(...data.waiting.map((call) => keep.get(`${call.customer_id}/${call.tool_call_id}`) ||
                                                       waitingRow(call)));
    $("#nothing-waiting").hidden = data.waiting.length > 0;
    $("#decided tbody").replaceChildren(...data.decided.map(decidedRow));
  }
  refresher = setTimeout(refresh, REFRESH_MS);
}

function showSignIn(demo) {
  me = null;
  clearTimeout(refresher);
  $("#who").textContent = "";
  $("#logout").hidden = $("#desk").hidden = true;
  $("#signin").hidden = false;
  if (!demo) {
    $("#demo-note").textContent = "Sign in through your company's sign-in page.";
    $("#signin-form").hidden = true;
  }
  $("#name").focus();
}

async function start() {
  const who = await whoami();
  if (!who.staff) return showSignIn(who.demo_login);
  me = who.staff;
  $("#who").textContent = "Signed in as " + me.name + " (staff)";
  $("#signin").hidden = true;
  $("#logout").hidden = $("#desk").hidden = false;
  refresh();
}

$("#signin-form").onsubmit = async (event) => {
  event.preventDefault();
  const body = {name: $("#name").value.trim(), password: $("#password").value};
  const {ok, data} = await jsonRequest("POST", "/api/demo/staff", body);
  const error = $("#signin-error");
  error.hidden = ok;
  if (!ok) error.textContent = problem(data, "Could not sign in.");
  else { $("#password").value = ""; start(); }
};
$("#logout").onclick = async () => { await jsonRequest("POST", "/api/logout", {role: "staff"}); start(); };
start();
