"use strict";
// Shared by the web chat and the staff page: JSON requests (with the CSRF token on writes), and POSTs whose
// answer is a stream of server-sent events (read with fetch: an EventSource can only GET).

async function jsonRequest(method, path, body, csrfToken) {
  const headers = {"Accept": "application/json"};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return {ok: response.ok, status: response.status, data};
}

function problem(data, fallback) {
  return typeof data.detail === "string" ? data.detail : fallback;
}

async function whoami() {
  const {data} = await jsonRequest("GET", "/api/whoami");
  return data;
}

async function postEvents(path, body, csrfToken, on) {
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "Accept": "text/event-stream", "X-CSRF-Token": csrfToken},
  });
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    return on.error?.({message: problem(data, response.statusText), status: response.status});
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length && on[event]) on[event](JSON.parse(data.join("\n")));
    }
  }
}
