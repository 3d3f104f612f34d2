"use strict";
// The customers' web chat: sign in, a turn streamed as SSE, a refund that waits for our team (the page polls
// the conversation until they decide, then shows the answer).
const $ = (selector) => document.querySelector(selector);
const log = $("#log"), ask = $("#ask"), prompt = $("#prompt"), send = $("#send");
const toolLines = new Map();  // tool call id -> its element
const POLL_MS = 2000;
let me = null;  // {customer_id, csrf_token} of the signed-in customer
let poller = null;

const api = () => `/api/customers/${encodeURIComponent(me.customer_id)}`;
const isFinal = (message) => message.role === "assistant" && !(message.tool_calls || []).length;

function add(className, text = "") {
  log.querySelector(".empty")?.remove();
  const element = document.createElement("div");
  element.className = className;
  element.textContent = text;
  log.append(element);
  log.scrollTop = log.scrollHeight;
  return element;
}

function busy(on) { prompt.disabled = send.disabled = on; if (!on) prompt.focus(); }

function showToolCall(id, name, args) {
  const line = add("tool");
  line.dataset.id = id;
  const label = document.createElement("span");
  label.className = "name";
  label.textContent = name;
  line.append("→ ", label, `(${args})`);
  toolLines.set(id, line);
}

function showToolResult(id, content, ok) {
  const line = toolLines.get(id) || add("tool");
  const result = document.createElement("span");
  result.className = "result " + (ok ? "ok" : "failed");
  result.textContent = content.length > 300 ? content.slice(0, 300) + "…" : content;
  line.append(result);
}

// A call only our team may approve: say so, lock the chat box, and poll until they decide.
function showWaiting(pending) {
  const card = add("waiting");
  const text = document.createElement("p");
  const calls = document.createElement("code");
  calls.textContent = pending.map((call) => `${call.name}(${call.arguments})`).join(", ");
  text.append("Your request ", calls, " is waiting for our team. This page updates as soon as they decide.");
  card.append(text);
  busy(true);
  poll();
}

function poll() {
  clearTimeout(poller);
  const decidedAt = {time: null};
  const tick = async () => {
    const response = await fetch(api() + "/conversation", {credentials: "same-origin"}).catch(() => null);
    if (response?.ok) {
      const data = await response.json();
      const last = data.messages[data.messages.length - 1];
      if (!data.pending.length) {
        decidedAt.time ??= Date.now();
        // Decided: show the conversation once the resumed run has answered (or gave up after a minute).
        if ((last && isFinal(last)) || Date.now() - decidedAt.time > 60000) return render(data);
      }
    } else if (response?.status === 401) return start();
    poller = setTimeout(tick, POLL_MS);
  };
  poller = setTimeout(tick, POLL_MS);
}

async function turn(text) {
  busy(true);
  let answer = null, paused = false;
  const bubble = () => answer || (answer = add("msg assistant streaming"));
  try {
    await postEvents(api() + "/messages", {text}, me.csrf_token, {
      text: ({delta}) => { bubble().textContent += delta; log.scrollTop = log.scrollHeight; },
      tool_call: ({id, name, arguments: args}) => { answer?.classList.remove("streaming"); answer = null;
                                                   showToolCall(id, name, args); },
      tool_result: ({id, content, ok}) => showToolResult(id, content, ok),
      approval_required: ({pending}) => { paused = true; showWaiting(pending); },
      done: ({output}) => { if (output && !answer) bubble().textContent = output; },
      error: ({message}) => add("error", message),
    });
  } catch (error) {
    add("error", "Connection lost: " + error.message);
  } finally {
    answer?.classList.remove("streaming");
    if (!paused) busy(false);
  }
}

// The stored conversation (and a call still waiting for our team); the chat box opens after.
function render({messages, pending}) {
  clearTimeout(poller);
  log.replaceChildren();
  toolLines.clear();
  for (const message of messages) {
    if (message.role === "user") add("msg user", message.content);
    else if (message.role === "assistant") {
      if (message.content) add("msg assistant", message.content);
      for (const call of message.tool_calls || []) showToolCall(call.id, call.function.name, call.function.arguments);
    } else if (message.role === "tool") showToolResult(message.tool_call_id, message.content, true);
  }
  if (!messages.length) add("empty", "Ask about a payment, e.g. “What's the status of my transaction T1001?”" +
                                     " — or ask for a refund.");
  if (pending.length) showWaiting(pending); else busy(false);
}

async function load() {
  busy(true);
  const response = await fetch(api() + "/conversation", {credentials: "same-origin"});
  if (response.status === 401) return start();
  if (!response.ok) return add("error", "Could not load the conversation.");
  render(await response.json());
}

function showSignIn(demo) {
  me = null;
  clearTimeout(poller);
  $("#who").textContent = "";
  $("#logout").hidden = log.hidden = ask.hidden = true;
  $("#signin").hidden = false;
  if (!demo) {
    $("#demo-note").textContent = "Sign in through your company's sign-in page.";
    $("#signin-form").hidden = true;
  }
  const wanted = new URLSearchParams(location.search).get("customer");
  if (wanted) $("#customer").value = wanted;
  $("#customer").focus();
}

async function start() {
  const who = await whoami();
  if (!who.customer) return showSignIn(who.demo_login);
  me = who.customer;
  $("#who").textContent = "Signed in as " + me.customer_id;
  $("#signin").hidden = true;
  $("#logout").hidden = log.hidden = ask.hidden = false;
  await load();
}

$("#signin-form").onsubmit = async (event) => {
  event.preventDefault();
  const {ok, data} = await jsonRequest("POST", "/api/demo/customer", {customer_id: $("#customer").value.trim()});
  const error = $("#signin-error");
  error.hidden = ok;
  if (!ok) error.textContent = problem(data, "Could not sign in: a customer id is letters, digits, - and _.");
  else start();
};
$("#logout").onclick = async () => { await jsonRequest("POST", "/api/logout", {role: "customer"}); start(); };
ask.onsubmit = (event) => {
  event.preventDefault();
  const text = prompt.value.trim();
  if (!text) return;
  prompt.value = "";
  add("msg user", text);
  turn(text);
};
start();
