// syslab browse: LLM exchanges as chat messages, analyst data as readable fields, and the code of
// two nodes side by side. Everything run-written is set as text (textContent), never as HTML.
"use strict";
(function () {
  const S = window.syslab, $ = S.$, el = S.el;

  // A message's content: a string, or a list of parts ({type: "text", text}) as newer APIs send.
  function contentText(content) {
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.map((p) => (typeof p === "string" ? p : p && typeof p.text === "string" ? p.text : JSON.stringify(p))).join("\n");
    return JSON.stringify(content, null, 2);
  }

  // The stored prompt is the request as JSON ({model, messages, temperature, ...}); older or
  // foreign runs may store a bare message list or plain text: each is shown for what it is.
  function parsePrompt(text) {
    let body;
    try { body = JSON.parse(text); } catch (e) { return null; }
    const messages = Array.isArray(body) ? body : body && Array.isArray(body.messages) ? body.messages : null;
    if (!messages || !messages.every((m) => m && typeof m === "object" && "role" in m && "content" in m)) return null;
    const settings = Array.isArray(body) ? {} : Object.fromEntries(Object.entries(body).filter(([k, v]) => k !== "messages" && v !== null && typeof v !== "object"));
    return { messages, settings };
  }

  function message(role, text, cls) {
    return el("div", { class: `msg msg-${cls || String(role).replace(/[^a-z]/gi, "")}` },
      el("div", { class: "msg-role", text: String(role) }), el("div", { class: "msg-text", text }));
  }

  S.exchange = function (call) {
    const box = el("div", { class: "chat" });
    if (call.prompt === null) box.append(el("p", { text: "(prompt missing)" }));
    else {
      const p = parsePrompt(call.prompt);
      if (p === null) box.append(message("prompt", call.prompt, "user"));
      else {
        const s = Object.entries(p.settings).map(([k, v]) => `${k} ${v}`).join(" · ");
        if (s) box.append(el("div", { class: "cap", text: s }));
        for (const m of p.messages) box.append(message(m.role, contentText(m.content)));
      }
    }
    box.append(call.response === null ? el("p", { class: "cap", text: "(no response)" }) : message("assistant (response)", call.response, "assistant"));
    return box;
  };

  // Analyst (or other node) data: strings as paragraphs with their line breaks, lists as lists.
  S.dataView = function (data) {
    const box = el("div", { class: "data-view" });
    for (const [k, v] of Object.entries(data || {})) {
      if (v === null || v === "" || (Array.isArray(v) && !v.length)) continue;
      box.append(el("h4", { text: k.replace(/_/g, " ") }));
      if (typeof v === "string") box.append(el("div", { class: "msg-text", text: v }));
      else if (Array.isArray(v) && v.every((x) => typeof x !== "object" || x === null)) {
        const ul = el("ul", {}); v.forEach((x) => ul.append(el("li", { text: String(x) }))); box.append(ul);
      } else box.append(el("pre", { text: typeof v === "object" ? JSON.stringify(v, null, 2) : String(v) }));
    }
    return box;
  };

  // Two nodes' code in two columns; a line not found in the other program is highlighted.
  S.sideBySide = async function (a, b) {
    const [da, db] = await Promise.all([S.api(S.runUrl(`nodes/${a}`)), S.api(S.runUrl(`nodes/${b}`))]);
    const box = $("sbs"), lines = (d) => (d.code || "").split("\n");
    const la = lines(da), lb = lines(db), sa = new Set(la), sb = new Set(lb);
    const column = (d, mine, other, side) => {
      const n = d.node, info = S.metricInfo(S.defaultMetric());
      const value = info.key === "score" ? n.score : n.metrics[info.key];
      const pre = el("pre", { id: `sbs-code-${side}` });
      if (d.code === null) pre.append("(no code: the attempt made no program)");
      else for (const line of mine) pre.append(other.has(line) ? document.createTextNode(line + "\n") : el("span", { class: "changed", text: line }));
      return el("div", { class: "sbs-col" }, el("h3", {}, S.nodeLink(n.id), ` ${n.operator} · ${info.name} ${S.fmt(value, info.unit)}`), pre);
    };
    box.replaceChildren(
      el("div", { class: "sbs-head" }, el("b", { text: `Code of #${a} and #${b}` }), el("span", { class: "cap", text: " highlighted: lines the other program lacks " }),
        el("button", { id: "sbs-close", text: "close", onclick: () => { box.hidden = true; } })),
      el("div", { class: "sbs-cols" }, column(da, la, sb, "a"), column(db, lb, sa, "b")));
    box.hidden = false;
  };
})();
