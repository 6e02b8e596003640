// The chat panel's front end (an anywidget ESM module; no dependencies, nothing loaded from the network).
//
// State comes from the model's traits (messages, streaming, busy, totals, pending, settings); what
// the user does goes back as custom messages ({type: "send" | "stop" | "edit" | "regenerate" |
// "compare" | "delete" | "pick" | "retry" | "upload" | "unattach" | "cells_inserted" | "cells_refused"}).
// Message HTML is made safe by Python
// (cloudsway_nb.panel.render); everything else is set as text, never as markup.

const EFFORT_LABELS = { "": "default", low: "low", medium: "medium", high: "high", max: "max" };
const NOTHING_TO_SEND = "nothing to send: type a message or attach a file"; // as cloudsway_nb.panel.widget says
const FOLLOW_SLACK = 48; // px from the bottom that still counts as "at the latest message"
const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
const drafts = new WeakMap(); // model -> {text, open: Map(id -> reasoning open?)}: survives a re-render

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function formatSize(size) {
  if (size >= 1024 * 1024) return `${(size / (1024 * 1024)).toFixed(1)} MB`;
  if (size >= 1024) return `${Math.floor(size / 1024)} KB`;
  return `${size} B`;
}

function randomId() {
  return Math.random().toString(16).slice(2, 14).padEnd(12, "0");
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { style: "position:fixed;opacity:0" });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function chip(info, onRemove) {
  const thumb = typeof info.thumb === "string" && info.thumb.startsWith("data:image/png;base64,")
    ? h("img", { src: info.thumb, alt: "" }) : null;
  const size = info.progress !== undefined
    ? `${Math.round(info.progress * 100)}%` : formatSize(Number(info.size) || 0);
  return h("span", { class: `cw-chip${info.progress !== undefined ? " cw-uploading" : ""}`, title: info.mime || "" },
    thumb,
    h("span", { class: "cw-chip-name", text: String(info.name || "file") }),
    h("span", { class: "cw-chip-size", text: size }),
    onRemove ? h("button", { type: "button", title: "Remove", "aria-label": `Remove ${info.name}`, text: "×", onclick: onRemove }) : null);
}

// ------------------------------------------------------------------------------------------------
// one message
// ------------------------------------------------------------------------------------------------

function roleLabel(m) {
  const label = { user: "You", assistant: "Assistant", system: "System", error: "Error" }[m.role] || m.role;
  return m.role === "assistant" && m.endpoint ? `${label} · ${m.endpoint}` : label;
}

function reasoningSummary(m) {
  return m.reasoning_tokens ? `Reasoning · ${Number(m.reasoning_tokens).toLocaleString("en")} tokens` : "Reasoning";
}

// ------------------------------------------------------------------------------------------------
// the streaming message: parts {from, add: [html...], tail} (cloudsway_nb/panel/stream.py)
// ------------------------------------------------------------------------------------------------

// What the streaming entries carry, put together (per model, so every view of it shares it): the
// entry's fields and, for the answer and the reasoning, the finished blocks and the open tail
function streamStore(memory) {
  if (!memory.streams) memory.streams = new Map(); // id -> {meta, body: {blocks, tail}, reasoning: {blocks, tail}, asked}
  return memory.streams;
}

function applyPart(held, part) {
  if (!part) return true;
  if (held.blocks.length < part.from) return false; // blocks are missing (a page reloaded mid-stream)
  held.blocks.length = part.from; // applying an entry twice changes nothing
  held.blocks.push(...(part.add || []));
  held.tail = part.tail || "";
  return true;
}

function applyStreaming(model, memory) {
  const streams = streamStore(memory);
  const live = model.get("streaming") || {};
  for (const id of [...streams.keys()]) if (!live[id]) streams.delete(id);
  for (const [id, entry] of Object.entries(live)) {
    let acc = streams.get(id);
    if (!acc) { acc = { meta: {}, body: { blocks: [], tail: "" }, reasoning: { blocks: [], tail: "" }, asked: 0 }; streams.set(id, acc); }
    const { body, reasoning_parts: thoughts, seq, ...meta } = entry;
    Object.assign(acc.meta, meta);
    if (body === undefined && entry.html !== undefined) { acc.body = { blocks: [], tail: entry.html }; continue; } // a whole entry
    const whole = applyPart(acc.body, body) && applyPart(acc.reasoning, thoughts);
    if (!whole && acc.asked !== seq) { acc.asked = seq; model.send({ type: "stream_sync", id }); }
  }
}

function liveMessage(memory, id, entry) {
  const acc = streamStore(memory).get(id);
  if (!acc) return entry;
  const join = (part) => part.blocks.join("") + part.tail;
  return { ...acc.meta, html: join(acc.body), reasoning_html: join(acc.reasoning), parts: acc };
}

// A message added, or a stream's end: the kernel sends the message alone (not the whole transcript again) and has
// it in its `messages` already; put it in this copy (by id, so every view may do it). With `parts`,
// the message comes without its HTML: it is the blocks held here (the first `from`) and the tail
// (the one shown, unless a new one comes). A browser lacking blocks shows what it has and asks again.
function finalPart(held, part) {
  if (!held || !part || held.blocks.length < part.from) return null;
  return held.blocks.slice(0, part.from).join("") + (part.tail !== undefined ? part.tail : held.tail);
}

function endStream(model, content, memory) {
  if (!content || (content.type !== "stream_end" && content.type !== "message") || !content.message) return;
  let message = content.message;
  if (content.parts) {
    const acc = streamStore(memory).get(message.id);
    const html = finalPart(acc && acc.body, content.parts.body);
    const thoughts = finalPart(acc && acc.reasoning, content.parts.reasoning);
    if (html === null || thoughts === null) {
      const join = (part) => (part ? part.blocks.join("") + part.tail : "");
      message = { ...message, html: join(acc && acc.body), reasoning_html: join(acc && acc.reasoning) };
      if (!content.asked) { content.asked = true; model.send({ type: "stream_sync", id: message.id }); } // the whole message comes back
    } else {
      message = { ...message, html, reasoning_html: thoughts };
    }
  }
  const messages = [...(model.get("messages") || [])];
  const at = messages.findIndex((m) => m.id === message.id);
  if (at >= 0) messages[at] = message;
  else if (Number.isInteger(content.at)) messages.splice(content.at, 0, message); // a message added (at its place)
  else messages.push(message);
  model.set("messages", messages); // local (the kernel ignores a copy coming back)
}

// Shows a part in `box`: the blocks not shown yet appended (finished ones are never drawn again),
// the tail replaced. Safe HTML from cloudsway_nb.panel.render.
function showParts(box, part) {
  if (!box.cwBlocks || !box.contains(box.cwBlocks)) {
    box.cwBlocks = h("div", { class: "cw-blocks" });
    box.cwTail = h("div", { class: "cw-tail" });
    box.cwShown = [];
    box.replaceChildren(box.cwBlocks, box.cwTail);
  }
  let same = 0;
  while (same < box.cwShown.length && same < part.blocks.length && box.cwShown[same] === part.blocks[same]) same += 1;
  if (same < box.cwShown.length) { // a stream that started again: draw its blocks anew
    box.cwBlocks.replaceChildren();
    box.cwShown = [];
    same = 0;
  }
  for (const block of part.blocks.slice(same)) box.cwBlocks.insertAdjacentHTML("beforeend", block);
  box.cwShown = part.blocks.slice();
  box.cwTail.innerHTML = part.tail;
}

// ------------------------------------------------------------------------------------------------
// a tool call's block (role "tool": cloudsway_nb/panel/tool_blocks.py), with approval when asked
// ------------------------------------------------------------------------------------------------

// plain glyphs (every font has them; emoji showed as boxes where no emoji font is installed)
const TOOL_ICONS = { asking: "?", running: "…", ok: "✓", error: "✗", timeout: "✗", rejected: "⊘", "not run": "–" };

function keepKeys(event) { // keys typed in a block's fields stay there (Shift+Enter would run the cell)
  if (!(event.ctrlKey || event.metaKey)) event.stopPropagation();
}

function renderToolBlock(view, m) {
  const b = m.tool || {};
  const send = (content) => view.panel.model.send({ type: "tool_decision", id: m.id, ...content });
  const key = `tool:${m.id}`;
  const remembered = view.panel.openState.get(key);
  const details = h("details", { class: `cw-tool cw-tool-${String(b.status || "").replace(" ", "-")}` });
  details.open = b.status === "asking" || (remembered !== undefined ? remembered : false);
  const summary = h("summary", { "aria-label": `Tool call ${b.summary || b.name}` },
    h("span", { class: "cw-tool-icon", "aria-hidden": "true", text: TOOL_ICONS[b.status] || "" }),
    h("code", { text: b.summary || String(b.name || "tool") }));
  summary.addEventListener("click", () => setTimeout(() => view.panel.openState.set(key, details.open)));
  const body = h("div", { class: "cw-tool-body" });
  const row = (label, text) => body.append(h("div", { class: "cw-tool-label", text: label }),
    h("pre", { class: "cw-tool-pre", text }));
  if (b.status !== "asking") row("arguments", String(b.arguments || ""));
  if (b.asked_with) row("asked with", String(b.asked_with));
  const rich = b.rich || {};
  const shown = rich.kind === "table" || rich.kind === "image"; // shown as itself below: its text form is the model's
  if (b.output && !shown) row(b.status === "error" || b.status === "timeout" ? "error" : "result", String(b.output));
  if (b.approval) row("approval", b.reason ? `${b.approval}: ${b.reason}` : String(b.approval));
  if (rich.kind === "image" && String(rich.src || "").startsWith("data:image/png;base64,")) {
    body.append(h("div", { class: "cw-tool-label", text: "result (the model got a description)" }),
      h("img", { class: "cw-tool-image", src: rich.src, alt: `the image ${b.name} returned` }));
  } else if (rich.kind === "table" && rich.html) {
    const table = h("div", { class: "cw-tool-table", "aria-label": `${b.name}: ${rich.shape || "table"}` });
    table.innerHTML = rich.html; // escaped by pandas in the kernel (cloudsway_nb.panel.tool_blocks.rich_view)
    body.append(h("div", { class: "cw-tool-label", text: `result · ${rich.shape || "table"} (the model got the first rows as text)` }), table);
  }
  if (b.status === "asking") body.append(approvalForm(b, send));
  details.append(summary, body);
  view.el.className = "cw-msg cw-tool-msg";
  view.el.replaceChildren(details);
}

function approvalForm(b, send) {
  const args = h("textarea", { class: "cw-tool-args", rows: 3, "aria-label": `Arguments for ${b.name} (JSON)` });
  args.value = String(b.arguments || "{}");
  const reason = h("input", { type: "text", class: "cw-tool-reason", placeholder: "why (the model is told)",
    "aria-label": `Reason for rejecting ${b.name}` });
  for (const field of [args, reason]) field.addEventListener("keydown", keepKeys);
  const button = (text, cls, title, content) => h("button", { type: "button", class: cls, text, title,
    onclick: (event) => {
      for (const other of event.target.parentNode.querySelectorAll("button")) other.disabled = true; // one answer
      send(typeof content === "function" ? content() : content);
    } });
  return h("div", { class: "cw-approval", role: "group", "aria-label": `Approve the call of ${b.name}` },
    h("div", { class: "cw-tool-label", text: `Run ${b.name} with these arguments?` }), args,
    h("label", { class: "cw-tool-label" }, "Reason (for Reject) ", reason),
    h("div", { class: "cw-approval-buttons" },
      button("Approve", "cw-primary", "Run the call as the model asked", { action: "approve" }),
      button("Run with edited arguments", "", "Run the call with the arguments above", () => ({ action: "edit", arguments: args.value })),
      button("Reject", "cw-danger", "Do not run it; the model is told the reason", () => ({ action: "reject", reason: reason.value })),
      button("Approve all", "", "Run this and every later call in this session without asking", { action: "approve_all" })));
}

class MessageView {
  constructor(panel, m) {
    this.panel = panel;
    this.id = m.id;
    this.el = h("div", { class: "cw-msg", "data-id": m.id });
    this.sig = null;
    this.editing = false;
  }

  update(m, live) {
    if (m.role === "tool") { // a tool call: drawn whole when it changes (a typed edit survives other updates)
      const sig = JSON.stringify(m);
      if (sig !== this.sig) { this.sig = sig; this.role = "tool"; this.body = null; renderToolBlock(this, m); }
      return;
    }
    const sig = live ? null : JSON.stringify(m);
    if (!live && sig === this.sig) return;
    if (this.editing && !live) return; // keep the user's edit box open; the edit's result replaces it later
    this.sig = sig;
    const built = this.live === live && this.body && this.role === m.role;
    if (!built) this.build(m, live);
    this.fill(m, live);
  }

  build(m, live) {
    this.live = live;
    this.role = m.role;
    this.el.className = `cw-msg cw-${m.role}`;
    this.status = h("span", { class: "cw-status" });
    this.actions = h("span", { class: "cw-actions" });
    this.head = h("div", { class: "cw-msg-head" }, h("span", { class: "cw-role" }), this.status, this.actions);
    this.menu = h("div", { class: "cw-menu cw-hidden" });
    this.chips = h("div", { class: "cw-chips" });
    this.reasoning = h("details", { class: "cw-reasoning cw-hidden" });
    this.summary = h("summary");
    this.reasoningBody = h("div", { class: "cw-reasoning-body" });
    this.reasoning.append(this.summary, this.reasoningBody);
    // remember what the user chose (a click; "toggle" also fires when the code opens or closes it)
    this.summary.addEventListener("click", () => setTimeout(() => this.panel.openState.set(this.id, this.reasoning.open)));
    this.body = h("div", { class: "cw-body" });
    this.error = h("div", { class: "cw-error-text" });
    this.footer = h("div", { class: "cw-footer" });
    this.el.replaceChildren(this.head, this.menu, this.chips, this.reasoning, this.body, this.error, this.footer);
    if (!live) this.addActions(m);
  }

  fill(m, live) {
    this.head.querySelector(".cw-role").textContent = roleLabel(m);
    const status = m.status || "done";
    this.status.textContent = status === "done" ? "" : status;
    this.status.className = `cw-status cw-status-${status}${status === "done" ? " cw-hidden" : ""}`;
    this.chips.replaceChildren(...(m.attachments || []).map((a) => chip(a)));
    const hasReasoning = Boolean(m.reasoning_html);
    this.reasoning.classList.toggle("cw-hidden", !hasReasoning);
    if (hasReasoning) {
      this.summary.textContent = reasoningSummary(m);
      if (live && m.parts) showParts(this.reasoningBody, m.parts.reasoning);
      else this.reasoningBody.innerHTML = m.reasoning_html; // safe HTML from cloudsway_nb.panel.render
      const remembered = this.panel.openState.get(this.id);
      const open = remembered !== undefined ? remembered : live && !(m.html || "").trim();
      if (this.reasoning.open !== open) this.reasoning.open = open;
    }
    if (live && m.parts) showParts(this.body, m.parts.body); // appends the blocks that finished, replaces the tail
    else this.body.innerHTML = m.html || ""; // safe HTML from cloudsway_nb.panel.render
    this.body.classList.toggle("cw-cursor", live);
    this.error.textContent = m.error || "";
    this.footer.textContent = m.footer || "";
    this.message = m;
  }

  addActions(m) {
    const button = (label, title, onclick) =>
      h("button", { type: "button", class: "cw-link", title, text: label, onclick });
    const send = (content) => this.panel.model.send(content);
    const items = [];
    if (m.role === "user" || m.role === "assistant") items.push(button("Edit", "Edit this message", () => this.startEdit()));
    if (m.role === "assistant") {
      items.push(button("Regenerate", "Answer again (with the endpoint selected below)", () =>
        send({ type: "regenerate", id: this.id, endpoint: this.panel.model.get("endpoint") })));
      items.push(button("Compare", "Ask another endpoint the same and show both", () => this.toggleMenu()));
      if (m.group && m.status !== "streaming")
        items.push(button("Use this", "Continue the conversation with this answer", () => send({ type: "pick", id: this.id })));
    }
    if (m.text) items.push(button("Copy", "Copy this message as Markdown", async (event) => {
      const ok = await copyText(this.message.text || "");
      event.target.textContent = ok ? "Copied" : "Copy failed";
      setTimeout(() => { event.target.textContent = "Copy"; }, 1200);
    }));
    items.push(button("Delete", "Delete this message", () => send({ type: "delete", id: this.id })));
    this.actions.replaceChildren(...items);
  }

  toggleMenu() {
    if (!this.menu.classList.contains("cw-hidden")) {
      this.menu.classList.add("cw-hidden");
      return;
    }
    const others = (this.panel.model.get("endpoints") || []).filter((e) => e !== this.message.endpoint);
    const pick = (endpoint) => () => {
      this.menu.classList.add("cw-hidden");
      this.panel.model.send({ type: "compare", id: this.id, endpoint });
    };
    this.menu.replaceChildren(h("span", { text: others.length ? "Compare with:" : "No other endpoint to compare with" }),
      ...others.map((e) => h("button", { type: "button", text: e, onclick: pick(e) })));
    this.menu.classList.remove("cw-hidden");
  }

  startEdit() {
    if (this.editing) return;
    this.editing = true;
    const area = h("textarea", { "aria-label": "Edit message" });
    area.value = this.message.text || "";
    const done = () => {
      this.editing = false;
      box.remove();
      this.body.classList.remove("cw-hidden");
      this.sig = null; // an update that arrived while editing is drawn now
      this.panel.schedule();
    };
    const save = () => {
      const text = area.value;
      done();
      if (text !== (this.message.text || "")) this.panel.model.send({ type: "edit", id: this.id, text });
    };
    area.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); save(); }
      else if (event.key === "Escape") { event.preventDefault(); done(); }
      event.stopPropagation();
    });
    const box = h("div", { class: "cw-edit" }, area, h("div", { class: "cw-edit-buttons" },
      h("button", { type: "button", class: "cw-primary", text: "Save", onclick: save }),
      h("button", { type: "button", text: "Cancel", onclick: done })));
    this.body.classList.add("cw-hidden");
    this.body.after(box);
    area.focus();
  }
}

// ------------------------------------------------------------------------------------------------
// the panel
// ------------------------------------------------------------------------------------------------

class Panel {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    const memory = drafts.get(model) || { text: "", open: new Map() };
    drafts.set(model, memory);
    this.memory = memory;
    this.openState = memory.open;
    this.views = new Map();
    this.uploading = new Map(); // local id -> {name, size, progress, cancelled}
    this.layoutKey = null; // so the first render lays out even an empty transcript ("No messages yet.")
    this.scheduled = false;
    this.build();
  }

  build() {
    const model = this.model;
    this.title = h("span", { class: "cw-title" });
    this.totals = h("span", { class: "cw-totals" });
    const header = h("div", { class: "cw-header" }, this.title, this.totals);

    this.endpoint = h("select", { "aria-label": "Endpoint", onchange: () => this.save("endpoint", this.endpoint.value) });
    this.effort = h("select", { "aria-label": "Reasoning effort", onchange: () => this.save("effort", this.effort.value) });
    this.temperature = h("input", { type: "number", min: 0, max: 2, step: 0.1, placeholder: "default", "aria-label": "Temperature",
      onchange: () => this.save("temperature", this.number(this.temperature, parseFloat)) });
    this.maxTokens = h("input", { type: "number", min: 1, step: 1, placeholder: "default", "aria-label": "Max tokens",
      onchange: () => this.save("max_tokens", this.number(this.maxTokens, (v) => parseInt(v, 10))) });
    this.systemToggle = h("button", { type: "button", class: "cw-link", "aria-expanded": "false", onclick: () => {
      const hidden = this.systemBox.classList.toggle("cw-hidden");
      this.systemToggle.setAttribute("aria-expanded", String(!hidden));
      if (!hidden) this.system.focus();
    } });
    this.system = h("textarea", { "aria-label": "System prompt", placeholder: "System prompt (empty: none)",
      onchange: () => this.save("system_prompt", this.system.value), onkeydown: (e) => e.stopPropagation() });
    this.systemBox = h("div", { class: "cw-system cw-hidden" }, this.system);
    const label = (text, control) => h("label", {}, text, control);
    const settings = h("div", { class: "cw-settings" }, label("Endpoint", this.endpoint), label("Reasoning", this.effort),
      label("Temperature", this.temperature), label("Max tokens", this.maxTokens), this.systemToggle, this.systemBox);

    // a polite live region; the message streaming in it is aria-busy until done (read once, whole).
    // It scrolls with the keyboard too (tabindex), and follows the answer until the user scrolls up
    this.transcript = h("div", { class: "cw-transcript", role: "log", "aria-live": "polite", "aria-label": "Conversation",
      tabindex: 0 });
    this.transcript.addEventListener("click", (event) => this.onTranscriptClick(event));
    this.follow = true;
    this.transcript.addEventListener("scroll", () => this.onScroll());
    this.jump = h("button", { type: "button", class: "cw-jump cw-hidden", text: "↓ Jump to latest",
      title: "Scroll to the latest message and follow it again", onclick: () => this.jumpToLatest() });
    const transcriptBox = h("div", { class: "cw-transcript-box" }, this.transcript, this.jump);
    this.notice = h("span", { class: "cw-notice", role: "status" });
    this.retryButton = h("button", { type: "button", class: "cw-retry cw-hidden", text: "Retry",
      title: "Send the turn that failed again", onclick: () => this.model.send({ type: "retry" }) });
    this.resumeButton = h("button", { type: "button", class: "cw-resume cw-hidden", text: "Resume",
      title: "Go on with the tool loop from where it stopped", onclick: () => this.model.send({ type: "resume" }) });
    const noticeRow = h("div", { class: "cw-notice-row" }, this.notice, this.retryButton, this.resumeButton);

    this.chips = h("div", { class: "cw-chips" });
    this.files = h("input", { type: "file", multiple: true, class: "cw-hidden", onchange: () => {
      this.uploadAll(this.files.files);
      this.files.value = "";
    } });
    this.attach = h("button", { type: "button", title: "Attach files (or drop or paste them)", text: "Attach",
      onclick: () => this.files.click() });
    this.input = h("textarea", { class: "cw-input", rows: 2, "aria-label": "Message" });
    this.input.value = this.memory.text;
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("input", () => { this.memory.text = this.input.value; this.grow(); });
    this.input.addEventListener("paste", (event) => this.onPaste(event));
    this.sendButton = h("button", { type: "button", class: "cw-primary cw-send", text: "Send", onclick: () => this.send() });
    this.stopButton = h("button", { type: "button", class: "cw-stop", text: "Stop", title: "Stop (Escape)", onclick: () => this.stop() });
    this.composer = h("div", { class: "cw-composer" }, this.chips,
      h("div", { class: "cw-input-row" }, this.attach, this.files, this.input, this.sendButton, this.stopButton));
    for (const kind of ["dragenter", "dragover", "dragleave", "drop"]) this.composer.addEventListener(kind, (e) => this.onDrag(e));
    this.el.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.model.get("busy")) { event.preventDefault(); event.stopPropagation(); this.stop(); }
    });

    this.el.classList.add("cloudsway-panel");
    this.el.replaceChildren(header, settings, transcriptBox, noticeRow, this.composer);
  }

  // ---------------------------------------------------------------------------- model -> DOM

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => { this.scheduled = false; this.renderTranscript(); });
  }

  renderAll() {
    this.renderHeader();
    this.renderSettings();
    this.renderComposer();
    this.renderTranscript();
  }

  renderHeader() {
    this.title.textContent = this.model.get("title");
    this.totals.textContent = (this.model.get("totals") || {}).text || "";
    const notice = this.model.get("notice") || "";
    this.notice.textContent = notice;
    const failed = Boolean(notice && this.model.get("retry"));
    this.retryButton.classList.toggle("cw-hidden", !failed);
    this.notice.classList.toggle("cw-failed", failed);
    this.resumeButton.classList.toggle("cw-hidden", !this.model.get("resumable") || Boolean(this.model.get("busy")));
  }

  renderSettings() {
    const m = this.model;
    const endpoints = m.get("endpoints") || [];
    const current = m.get("endpoint");
    const options = endpoints.includes(current) || !current ? endpoints : [current, ...endpoints];
    this.endpoint.replaceChildren(...options.map((e) => h("option", { value: e, text: e })));
    this.endpoint.value = current;
    this.endpoint.disabled = options.length === 0;
    this.effort.replaceChildren(...(m.get("efforts") || []).map((e) => h("option", { value: e, text: EFFORT_LABELS[e] || e })));
    this.effort.value = m.get("effort");
    this.setNumber(this.temperature, m.get("temperature"));
    this.setNumber(this.maxTokens, m.get("max_tokens"));
    if (document.activeElement !== this.system) this.system.value = m.get("system_prompt") || "";
    this.systemToggle.textContent = m.get("system_prompt") ? "System prompt ●" : "System prompt";
  }

  renderComposer() {
    const busy = Boolean(this.model.get("busy"));
    this.sendButton.disabled = busy;
    this.stopButton.disabled = !busy;
    this.input.placeholder = this.model.get("placeholder");
    const pending = (this.model.get("pending") || []).map((info) =>
      chip(info, () => this.model.send({ type: "unattach", id: info.id })));
    const uploading = [...this.uploading.entries()].map(([id, info]) => chip(info, () => {
      info.cancelled = true;
      this.uploading.delete(id);
      this.model.send({ type: "unattach", id });
      this.renderComposer();
    }));
    this.chips.replaceChildren(...pending, ...uploading);
    this.grow();
  }

  items() {
    const messages = this.model.get("messages") || [];
    const live = Object.fromEntries(Object.entries(this.model.get("streaming") || {})
      .map(([id, entry]) => [id, liveMessage(this.memory, id, entry)]));
    const items = messages.map((m) => (live[m.id] ? [live[m.id], true] : [m, false]));
    const known = new Set(messages.map((m) => m.id));
    for (const [id, m] of Object.entries(live)) if (!known.has(id)) items.push([m, true]);
    return items;
  }

  renderTranscript() {
    const items = this.items();
    const seen = new Set();
    for (const [m, live] of items) {
      let view = this.views.get(m.id);
      if (!view) { view = new MessageView(this, m); this.views.set(m.id, view); }
      view.update(m, live);
      view.el.setAttribute("aria-busy", String(live));
      seen.add(m.id);
    }
    for (const id of [...this.views.keys()]) if (!seen.has(id)) this.views.delete(id);
    const key = items.map(([m]) => `${m.id}:${m.group || ""}`).join(",");
    if (key !== this.layoutKey) { this.layoutKey = key; this.layout(items); }
    this.keepFollowing();
  }

  // ---------------------------------------------------------------------------- autoscroll

  atBottom() {
    const box = this.transcript;
    return box.scrollHeight - box.scrollTop - box.clientHeight < FOLLOW_SLACK;
  }

  onScroll() {
    // our own scrolling lands at the bottom (following on); the user's scrolling up pauses it
    this.follow = this.atBottom();
    this.jump.classList.toggle("cw-hidden", this.follow);
  }

  keepFollowing() {
    if (this.follow) this.transcript.scrollTop = this.transcript.scrollHeight;
    this.jump.classList.toggle("cw-hidden", this.follow || this.atBottom());
  }

  jumpToLatest() {
    this.follow = true;
    this.keepFollowing();
    this.input.focus();
  }

  layout(items) {
    const nodes = [];
    let row = null;
    let group = null;
    for (const [m] of items) {
      const node = this.views.get(m.id).el;
      if (m.group && m.group === group) { row.append(node); continue; }
      group = m.group || null;
      if (group) { row = h("div", { class: "cw-row cw-group" }, node); nodes.push(row); } else { row = null; nodes.push(node); }
    }
    if (!nodes.length) nodes.push(h("div", { class: "cw-empty", text: "No messages yet." }));
    this.transcript.replaceChildren(...nodes);
  }

  // ---------------------------------------------------------------------------- DOM -> model

  save(name, value) {
    this.model.set(name, value);
    this.model.save_changes();
  }

  number(input, parse) {
    const value = parse(input.value);
    return input.value === "" || Number.isNaN(value) ? null : value;
  }

  setNumber(input, value) {
    if (document.activeElement !== input) input.value = value === null || value === undefined ? "" : String(value);
  }

  grow() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 14 * 20)}px`;
  }

  onKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      this.send();
    } else if (event.key === "Escape" && this.model.get("busy")) {
      event.preventDefault();
      this.stop();
    }
    // Keys typed into the box stay there (Shift+Enter would run the cell, Escape leave edit mode, and
    // a modifier alone reaching the notebook was seen to swallow the next Shift+Enter's newline);
    // Ctrl/Cmd chords go on, so Ctrl+S still saves the notebook
    if (!(event.ctrlKey || event.metaKey) || event.key === "Enter") event.stopPropagation();
  }

  send() {
    const text = this.input.value;
    if (this.model.get("busy")) return;
    if (this.uploading.size) { this.notice.textContent = "Waiting for the attachments to finish uploading…"; return; }
    if (!text.trim() && !(this.model.get("pending") || []).length) {
      this.notice.textContent = NOTHING_TO_SEND; // at once; the kernel says the same in the notice
      this.model.send({ type: "send", text });
      return;
    }
    this.model.send({ type: "send", text });
    this.input.value = "";
    this.memory.text = "";
    this.grow();
    this.jumpToLatest();
  }

  stop() {
    this.model.send({ type: "stop" });
  }

  async onTranscriptClick(event) {
    const button = event.target.closest(".cw-copy");
    if (!button) return;
    const code = button.closest(".cw-code")?.querySelector("pre");
    const ok = await copyText(code ? code.textContent : "");
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = "Copy"; }, 1200);
  }

  onPaste(event) {
    const files = [...(event.clipboardData?.files || [])];
    if (!files.length) return;
    event.preventDefault();
    this.uploadAll(files);
  }

  onDrag(event) {
    if (!event.dataTransfer || ![...event.dataTransfer.types].includes("Files")) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.type === "dragenter" || event.type === "dragover") {
      event.dataTransfer.dropEffect = "copy";
      this.composer.classList.add("cw-dragover");
    } else {
      this.composer.classList.remove("cw-dragover");
      if (event.type === "drop") this.uploadAll(event.dataTransfer.files);
    }
  }

  uploadAll(files) {
    for (const file of [...(files || [])]) this.upload(file);
  }

  async upload(file) {
    const limit = this.model.get("max_upload");
    if (file.size > limit) {
      this.notice.textContent = `${file.name} is ${formatSize(file.size)}, over the ${formatSize(limit)} limit`;
      return;
    }
    const id = randomId();
    const info = { name: file.name, size: file.size, mime: file.type, progress: 0, cancelled: false };
    this.uploading.set(id, info);
    this.renderComposer();
    const chunk = Math.max(1024, this.model.get("upload_chunk"));
    for (let offset = 0; ; offset += chunk) {
      if (info.cancelled) return;
      const buffer = await file.slice(offset, offset + chunk).arrayBuffer();
      const final = offset + chunk >= file.size;
      this.model.send({ type: "upload", id, name: file.name, mime: file.type, size: file.size, offset, final }, undefined, [buffer]);
      info.progress = file.size ? Math.min(1, (offset + chunk) / file.size) : 1;
      this.renderComposer();
      if (final) break;
    }
  }

  onCustom(content) {
    if (!content || typeof content !== "object") return;
    if (content.type === "upload_done" || content.type === "upload_error") {
      this.uploading.delete(content.id);
      if (content.type === "upload_error") this.notice.textContent = String(content.message || "upload failed");
      this.renderComposer();
    } else if (content.type === "set_input") {
      if (content.only_if !== undefined && this.input.value !== String(content.only_if)) return;
      this.input.value = String(content.text || "");
      this.memory.text = this.input.value;
      this.grow();
    } else if (content.type === "focus") {
      this.input.focus();
    } else if (content.type === "insert_cells") {
      this.insertCells(content);
    }
  }

  // ---------------------------------------------------------------------------- panel.to_cells()

  insertCells(content) {
    // Every view of the panel gets the request; one inserts: the one in the notebook holding the cell
    // that asked (else, a moment later, the first one there is, after the panel's own cell)
    const handled = (window.__cloudswayCellRequests = window.__cloudswayCellRequests || new Set());
    const reply = (type, message) => this.model.send({ type, request: content.request, message });
    const notebook = this.model.widget_manager?.context?.model?.sharedModel;
    if (!notebook || typeof notebook.insertCells !== "function") {
      setTimeout(() => {
        if (handled.has(content.request)) return;
        handled.add(content.request);
        reply("cells_refused", "this front end lets no widget add cells: write them with " +
          "nbformat from panel.to_cells(insert=False)");
      }, 400);
      return;
    }
    const cells = [...notebook.cells];
    const asking = content.after_cell ? cells.findIndex((c) => c.id === content.after_cell) : -1;
    const insert = (index) => {
      if (handled.has(content.request)) return;
      handled.add(content.request);
      const made = (content.cells || []).map((c) => (c.cell_type === "code"
        ? { cell_type: "code", source: String(c.source), metadata: {}, outputs: [], execution_count: null }
        : { cell_type: "markdown", source: String(c.source), metadata: {} }));
      notebook.insertCells(index, made);
      const code = made.filter((c) => c.cell_type === "code").length;
      reply("cells_inserted", `${made.length} cells inserted below (${made.length - code} markdown, ${code} code)`);
    };
    if (asking >= 0) { insert(asking + 1); return; }
    const own = cells.findIndex((c) => (c.getOutputs ? c.getOutputs() : c.outputs || [])
      .some((o) => o && o.data && o.data[WIDGET_VIEW] && o.data[WIDGET_VIEW].model_id === content.model_id));
    setTimeout(() => insert(own >= 0 ? own + 1 : notebook.cells.length), content.after_cell ? 300 : 0);
  }
}

function render({ model, el }) {
  const panel = new Panel(model, el);
  applyStreaming(model, panel.memory); // a view made while a reply streams
  panel.renderAll();
  const handlers = [
    ["change:messages", () => panel.schedule()],
    ["change:streaming", () => { applyStreaming(model, panel.memory); panel.schedule(); }], // every entry, at once
    ["msg:custom", (content) => endStream(model, content, panel.memory)],
    ["change:busy", () => panel.renderComposer()],
    ["change:pending", () => panel.renderComposer()],
    ["change:placeholder", () => panel.renderComposer()],
    ["change:totals", () => panel.renderHeader()],
    ["change:title", () => panel.renderHeader()],
    ["change:notice", () => panel.renderHeader()],
    ["change:retry", () => panel.renderHeader()],
    ["change:resumable", () => panel.renderHeader()],
    ["change:busy", () => panel.renderHeader()],
    ["msg:custom", (content) => panel.onCustom(content)],
  ];
  for (const name of ["endpoints", "endpoint", "effort", "efforts", "temperature", "max_tokens", "system_prompt"]) {
    handlers.push([`change:${name}`, () => panel.renderSettings()]);
  }
  for (const [name, fn] of handlers) model.on(name, fn);
  model.send({ type: "view_ready" }); // from now on the kernel may send a message added alone (endStream puts it)
  return () => { for (const [name, fn] of handlers) model.off(name, fn); };
}

export default { render };
