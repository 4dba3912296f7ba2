/* directive-qa widget: one dependency-free custom element, <directive-qa>, in a Shadow DOM.
 * Mount: <script src="https://host/widget.js" data-api="https://host" data-lang="vi"
 *                 data-api-key="optional" data-target="optional-element-id"></script>
 * Safety rule: every server- or user-provided string goes in through textContent /
 * createElement / setAttribute; innerHTML is never used (the only template is static CSS). */
(function () {
  "use strict";
  var SCRIPT = document.currentScript ||
    Array.prototype.slice.call(document.querySelectorAll("script[src]")).filter(function (s) {
      return /widget\.js(\?|#|$)/.test(s.getAttribute("src") || "");
    }).pop();

  var VI_CHARS = /[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]/i;
  var T = {
    vi: {
      title: "Hỏi đáp văn bản chỉ đạo", placeholder: "Đặt câu hỏi về các văn bản đã nạp…",
      question: "Câu hỏi", send: "Gửi", draft: "Soạn bài viết", toggle: "English",
      toggleLabel: "Chuyển giao diện sang tiếng Anh", reset: "Hội thoại mới", you: "Bạn", assistant: "Trả lời",
      searching: "Đang tìm trong các văn bản…", composing: "Đang soạn câu trả lời…",
      refusal: "Không tìm thấy trong các văn bản đã nạp", related: "Liên quan, không được trích dẫn",
      sources: "Nguồn", sourcesCopy: "Nguồn:", copy: "Sao chép câu trả lời", copied: "Đã sao chép",
      copyFailed: "Không sao chép được", close: "Đóng", openDoc: "Mở toàn văn",
      citation: "Trích dẫn", clause: "Điều khoản", kind: "Loại văn bản", issued: "Ngày ban hành",
      number: "Số hiệu", label: "Vị trí", quote: "Nguyên văn", fullText: "Toàn văn điều khoản",
      machine: "Bản dịch máy", commentary: "Bản dịch theo bài bình luận", translation: "Bản dịch",
      loading: "Đang tải…", translating: "Đang dịch máy các điều khoản", error: "Lỗi", network: "Không kết nối được tới máy chủ",
      unauthorized: "Máy chủ yêu cầu khóa API hợp lệ", article: "Bài viết (bản nháp)",
      noArticle: "Máy chủ này chưa hỗ trợ soạn bài viết.", needQuestion: "Hãy nhập câu hỏi trước.",
      document: "Văn bản", conversation: "Hội thoại"
    },
    en: {
      title: "Directive Q&A", placeholder: "Ask about the ingested directives…",
      question: "Question", send: "Send", draft: "Draft article", toggle: "Tiếng Việt",
      toggleLabel: "Switch the interface to Vietnamese", reset: "New conversation", you: "You", assistant: "Answer",
      searching: "Searching the directives…", composing: "Composing the answer…",
      refusal: "Not found in the ingested directives", related: "Related, not cited",
      sources: "Sources", sourcesCopy: "Sources:", copy: "Copy answer", copied: "Copied",
      copyFailed: "Could not copy", close: "Close", openDoc: "Open document",
      citation: "Citation", clause: "Clause", kind: "Kind", issued: "Issued",
      number: "Document", label: "Location", quote: "Verbatim text", fullText: "Full clause text",
      machine: "Machine translation", commentary: "Translation from commentary", translation: "Translation",
      loading: "Loading…", translating: "Machine-translating clauses", error: "Error", network: "Could not reach the server",
      unauthorized: "The server needs a valid API key", article: "Article (draft)",
      noArticle: "Article drafting is not available on this server yet.",
      needQuestion: "Type a question first.", document: "Document", conversation: "Conversation"
    }
  };

  var CSS = [
    ":host{display:block;box-sizing:border-box;max-width:760px;margin:0 auto;color:#1b1f24;",
    "font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;--accent:#0b5cad}",
    "*,*::before,*::after{box-sizing:inherit}",
    ".box{border:1px solid #c9d1da;border-radius:12px;background:#fff;overflow:hidden}",
    "header{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px;padding:10px 14px;",
    "background:#f2f5f9;border-bottom:1px solid #dde3ea}",
    "h2{font-size:1rem;margin:0}",
    ".log{padding:12px 14px;display:flex;flex-direction:column;gap:12px;min-height:80px}",
    ".turn{border-radius:10px;padding:10px 12px;overflow-wrap:anywhere}",
    ".turn.user{background:#e8f1fb;align-self:flex-end;max-width:90%;white-space:pre-wrap}",
    ".turn.answer{background:#f8f9fb;border:1px solid #e3e7ec}",
    ".who{font-size:.75rem;font-weight:600;color:#5a6570;text-transform:uppercase;letter-spacing:.03em}",
    ".status{color:#5a6570;font-style:italic;font-size:.9rem}",
    ".body p{margin:.4em 0}.body ul{margin:.4em 0;padding-left:1.3em}.body li{margin:.25em 0}",
    "button{font:inherit;cursor:pointer;border-radius:8px;border:1px solid #9fb0c2;background:#fff;",
    "color:#1b1f24;padding:6px 12px;min-height:36px}",
    "button:hover{background:#eef3f8}button[disabled]{opacity:.55;cursor:default}",
    "button.primary{background:var(--accent);border-color:var(--accent);color:#fff}",
    "button.primary:hover{background:#094b8e}",
    ":focus-visible{outline:3px solid #f0a500;outline-offset:2px}",
    "button.chip{padding:0 6px;min-height:0;min-width:28px;line-height:1.5;font-size:.85em;",
    "border-radius:6px;border-color:var(--accent);color:var(--accent);margin:0 2px;vertical-align:baseline}",
    "button.rel{text-align:left;width:100%;min-height:0;border-color:#d2d9e0}",
    ".sources{margin-top:8px;border-top:1px dashed #d2d9e0;padding-top:6px;font-size:.9rem}",
    ".sources h3,.related h3{font-size:.8rem;margin:4px 0;color:#5a6570;text-transform:uppercase}",
    ".sources ol,.related ul{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:4px}",
    ".refusal{background:#fff4e5;border:1px solid #f0b45b;border-radius:8px;padding:8px 10px;font-weight:600}",
    ".related{margin-top:8px}.related .q{display:block;font-weight:400;color:#5a6570;font-size:.85rem}",
    ".error{color:#a4161a}",
    ".actions{display:flex;gap:8px;margin-top:8px;flex-wrap:wrap;align-items:center}",
    ".note{font-size:.85rem;color:#5a6570}",
    "form{display:flex;gap:8px;padding:10px 14px;border-top:1px solid #dde3ea;flex-wrap:wrap;align-items:flex-end}",
    "textarea{flex:1 1 260px;font:inherit;padding:8px 10px;border:1px solid #9fb0c2;border-radius:8px;",
    "resize:vertical;min-height:44px;max-height:200px}",
    ".buttons,.tools{display:flex;gap:8px}.tools button{min-height:32px;padding:4px 10px;font-size:.85rem}",
    ".backdrop{position:fixed;inset:0;background:rgba(20,28,38,.45);display:flex;align-items:center;",
    "justify-content:center;padding:16px;z-index:2147483000}",
    ".panel{background:#fff;border-radius:12px;width:min(680px,100%);max-height:calc(100vh - 32px);",
    "display:flex;flex-direction:column;box-shadow:0 10px 40px rgba(0,0,0,.3)}",
    ".panel header{border-radius:12px 12px 0 0}",
    ".panel .content{padding:12px 16px;overflow:auto}",
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 10px}",
    "dt{color:#5a6570;font-size:.85rem}dd{margin:0}",
    "blockquote{margin:6px 0 10px;padding:8px 12px;border-left:4px solid var(--accent);background:#f3f7fb;",
    "white-space:pre-wrap}",
    ".tr{border-left-color:#8a96a3;background:#f7f7f7}.tag{font-size:.8rem;color:#5a6570;font-weight:600}",
    ".tree{margin-top:10px;border-top:1px solid #dde3ea;padding-top:8px}",
    ".node{padding:4px 8px;margin:2px 0;border-radius:6px;white-space:pre-wrap;font-size:.92rem}",
    ".node .lbl{display:block;font-size:.75rem;color:#5a6570;font-weight:600}",
    ".node.highlight{background:#fff3bf;outline:2px solid #f0a500}",
    "iframe{width:100%;min-height:50vh;border:1px solid #dde3ea;border-radius:8px}",
    "pre{white-space:pre-wrap;font:inherit}",
    "@media (max-width:480px){:host{font-size:14px}.log,form{padding:10px}",
    ".turn.user{max-width:100%}.buttons{width:100%}.buttons button{flex:1}",
    ".backdrop{padding:0;align-items:stretch}.panel{border-radius:0;max-height:100vh;width:100%}",
    ".panel header{border-radius:0}dl{grid-template-columns:1fr}dt{margin-top:4px}}"
  ].join("\n");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (attrs[k] == null || attrs[k] === false) return;
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c != null) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function encodePath(value) {
    return String(value).split("/").map(encodeURIComponent).join("/");
  }

  function detectLang(text) { return VI_CHARS.test(text) ? "vi" : "en"; }

  // One Server-Sent Events block → {name, payload} (payloads are JSON), or null.
  function parseEvent(block) {
    var name = "message", data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) name = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    if (!data.length) return null;
    try { return { name: name, payload: JSON.parse(data.join("\n")) }; } catch (e) { return null; }
  }

  class DirectiveQA extends HTMLElement {
    constructor() {
      super();
      this.api = null; this.apiKey = null; this.uiLang = null;
      this.history = []; this.busy = false; this.manualLang = false; this.lastQuestion = "";
      this.root = this.attachShadow({ mode: "open" });
    }

    connectedCallback() {
      if (this.built) return;
      this.built = true;
      if (this.api == null) this.api = this.getAttribute("api") || "";
      this.api = String(this.api).replace(/\/+$/, "");
      if (this.apiKey == null) this.apiKey = this.getAttribute("api-key") || null;
      var lang = this.uiLang || this.getAttribute("lang") || "vi";
      this.uiLang = lang === "en" ? "en" : "vi";
      this.build();
    }

    t(key, lang) { return (T[lang || this.uiLang] || T.vi)[key]; }

    build() {
      var self = this;
      this.root.appendChild(el("style", { text: CSS }));
      this.titleEl = el("h2", { id: "dqa-title" });
      this.toggleBtn = el("button", { type: "button", "data-action": "lang", onclick: function () {
        self.manualLang = true; self.setLang(self.uiLang === "vi" ? "en" : "vi");
      } });
      this.resetBtn = el("button", { type: "button", "data-action": "reset", onclick: function () { self.reset(); } });
      this.logEl = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-relevant": "additions text" });
      this.input = el("textarea", { name: "question", rows: "2", maxlength: "2000", required: true,
        onkeydown: function (e) {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.submit(); }
        } });
      this.sendBtn = el("button", { type: "submit", class: "primary", "data-action": "send" });
      this.draftBtn = el("button", { type: "button", "data-action": "draft", onclick: function () { self.draft(); } });
      this.form = el("form", { onsubmit: function (e) { e.preventDefault(); self.submit(); } },
        [this.input, el("div", { class: "buttons" }, [this.sendBtn, this.draftBtn])]);
      this.box = el("section", { class: "box", "aria-labelledby": "dqa-title" },
        [el("header", null, [this.titleEl, el("div", { class: "tools" }, [this.resetBtn, this.toggleBtn])]),
         this.logEl, this.form]);
      this.root.appendChild(this.box);
      this.setLang(this.uiLang);
    }

    setLang(lang) {
      this.uiLang = lang;
      this.titleEl.textContent = this.t("title");
      this.toggleBtn.textContent = this.t("toggle");
      this.toggleBtn.setAttribute("aria-label", this.t("toggleLabel"));
      this.toggleBtn.setAttribute("lang", lang === "vi" ? "en" : "vi");
      this.input.placeholder = this.t("placeholder");
      this.input.setAttribute("aria-label", this.t("question"));
      this.sendBtn.textContent = this.t("send");
      this.resetBtn.textContent = this.t("reset");
      this.draftBtn.textContent = this.t("draft");
      this.logEl.setAttribute("aria-label", this.t("conversation"));
      this.box.setAttribute("lang", lang);
    }

    reset() {
      if (this.busy) return;
      this.history = []; this.lastQuestion = "";
      this.logEl.textContent = "";
      this.input.focus();
    }

    headers() {
      var h = { "Content-Type": "application/json", "Accept": "application/json, text/event-stream" };
      if (this.apiKey) h["X-API-Key"] = this.apiKey;
      return h;
    }

    async fetchJSON(path, options) {
      var res = await fetch(this.api + path, Object.assign({ headers: this.headers() }, options || {}));
      var data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      if (!res.ok) {
        var err = new Error((data && data.detail) || res.status + " " + res.statusText);
        err.status = res.status; err.code = data && data.error; throw err;
      }
      return data;
    }

    errorText(error, lang) {
      if (error && error.status === 401) return this.t("unauthorized", lang);
      if (error && error.status) return this.t("error", lang) + ": " + error.message;
      return this.t("network", lang);
    }

    // ------------------------------------------------------------------ asking
    async submit() {
      var question = this.input.value.trim();
      if (!question || this.busy) return;
      if (!this.manualLang) this.setLang(detectLang(question));
      var lang = this.uiLang;
      this.busy = true; this.sendBtn.disabled = true;
      this.input.value = ""; this.lastQuestion = question;
      this.logEl.appendChild(el("div", { class: "turn user", lang: detectLang(question) },
        [el("div", { class: "who", text: this.t("you") }), el("div", { text: question })]));
      var turn = { lang: lang, text: "", citations: [], final: null };
      turn.node = el("article", { class: "turn answer", "data-state": "pending", "aria-busy": "true" });
      turn.status = el("div", { class: "status", text: this.t("searching") });
      turn.body = el("div", { class: "body" });
      turn.sources = el("div", { class: "sources", hidden: true });
      turn.extra = el("div");
      turn.node.append(el("div", { class: "who", text: this.t("assistant") }), turn.status, turn.body,
        turn.sources, turn.extra);
      this.logEl.appendChild(turn.node);
      turn.node.scrollIntoView({ block: "nearest" });
      var body = { question: question, history: this.history.slice(-20) };
      if (this.manualLang) body.lang = lang;
      try {
        var res = await fetch(this.api + "/v1/ask/stream", {
          method: "POST", headers: this.headers(), body: JSON.stringify(body) });
        if (!res.ok) {
          var detail = null;
          try { detail = (await res.json()).detail; } catch (e) { /* not JSON */ }
          var err = new Error(detail || res.status + " " + res.statusText); err.status = res.status;
          throw err;
        }
        await this.readStream(res, turn);
        if (!turn.final) throw new Error("stream ended early");
        this.history.push({ role: "user", content: question.slice(0, 20000) },
          { role: "assistant", content: turn.final.answer.slice(0, 20000) });
        this.history = this.history.slice(-20);
      } catch (error) {
        turn.status.textContent = "";
        turn.extra.appendChild(el("div", { class: "error", role: "alert", text: this.errorText(error, lang) }));
        turn.node.setAttribute("data-state", "error");
      } finally {
        turn.node.removeAttribute("aria-busy");
        this.busy = false; this.sendBtn.disabled = false;
      }
    }

    async readStream(res, turn, onBlock) {
      var self = this, handle = onBlock || function (block) { self.handleEvent(block, turn); };
      var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = "";
      for (;;) {
        var chunk = await reader.read();
        if (chunk.done) buffer += decoder.decode();
        else buffer += decoder.decode(chunk.value, { stream: true });
        buffer = buffer.replace(/\r\n?/g, "\n");
        var cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          handle(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
        if (chunk.done) { if (buffer.trim()) handle(buffer); return; }
      }
    }

    handleEvent(block, turn) {
      var parsed = parseEvent(block);
      if (!parsed) return;
      var name = parsed.name, payload = parsed.payload;
      if (name === "evidence") {
        turn.lang = payload.language === "en" ? "en" : "vi";
        turn.citations = payload.citations || [];
        turn.status.textContent = this.t("composing", turn.lang);
        turn.node.setAttribute("data-state", "evidence");
        turn.node.setAttribute("lang", turn.lang);
        this.renderSources(turn);
      } else if (name === "token") {
        turn.text += payload.text || "";
        turn.node.setAttribute("data-state", "streaming");
        this.renderMarkdown(turn.body, turn.text, turn.citations, turn.lang);
      } else if (name === "final") {
        this.renderFinal(turn, payload);
      }
    }

    renderFinal(turn, answer) {
      var self = this;
      turn.final = answer;
      turn.lang = answer.language === "en" ? "en" : "vi";
      turn.citations = answer.citations || [];
      turn.status.remove();
      turn.node.setAttribute("lang", turn.lang);
      this.renderMarkdown(turn.body, answer.answer || "", turn.citations, turn.lang);
      this.renderSources(turn);
      turn.extra.textContent = "";
      if (answer.refused) {
        turn.body.prepend(el("div", { class: "refusal", role: "status", text: this.t("refusal", turn.lang) }));
        if ((answer.related || []).length) {
          var list = el("ul");
          answer.related.forEach(function (r) {
            list.appendChild(el("li", null, [el("button", { type: "button", class: "rel", "data-id": r.id,
              onclick: function (e) { self.openRelated(r, e.currentTarget, turn.lang); } },
              [el("strong", { text: r.id.split("#")[0] + " · " + r.label }), el("span", { class: "q", text: r.quote })])]));
          });
          turn.extra.appendChild(el("section", { class: "related" },
            [el("h3", { text: this.t("related", turn.lang) }), list]));
        }
      }
      var note = el("span", { class: "note", role: "status" });
      turn.extra.appendChild(el("div", { class: "actions" }, [el("button", { type: "button",
        "data-action": "copy", onclick: function () { self.copy(turn, note); } }, [this.t("copy", turn.lang)]), note]));
      turn.node.setAttribute("data-state", "final");
    }

    renderSources(turn) {
      var self = this;
      turn.sources.textContent = "";
      if (!turn.citations.length) { turn.sources.hidden = true; return; }
      var list = el("ol");
      turn.citations.forEach(function (c) {
        list.appendChild(el("li", null, [self.chip(c, turn.lang), " " + c.doc + " · " + c.label]));
      });
      turn.sources.append(el("h3", { text: this.t("sources", turn.lang) }), list);
      turn.sources.hidden = false;
    }

    chip(c, lang) {
      var self = this;
      return el("button", { type: "button", class: "chip", "data-id": c.id, "data-n": String(c.n),
        "aria-label": this.t("citation", lang) + " " + c.n + ": " + c.doc + ", " + c.label,
        onclick: function (e) { self.openClause(c, e.currentTarget, lang); } }, ["[" + c.n + "]"]);
    }

    // Minimal markdown: line breaks, "- " items, **bold**, _italic_, [n] → chip. Text nodes only.
    renderMarkdown(target, text, citations, lang) {
      var self = this, list = null, para = null;
      target.textContent = "";
      text.replace(/\s+$/, "").split("\n").forEach(function (line) {
        var item = /^\s*[-*] +(.*)$/.exec(line);
        if (item) {
          para = null;
          if (!list) { list = el("ul"); target.appendChild(list); }
          var li = el("li"); self.inline(li, item[1], citations, lang); list.appendChild(li);
        } else if (!line.trim()) {
          list = null; para = null;
        } else {
          list = null;
          if (para) para.appendChild(el("br")); else { para = el("p"); target.appendChild(para); }
          self.inline(para, line, citations, lang);
        }
      });
    }

    inline(parent, text, citations, lang) {
      var re = /\*\*(.+?)\*\*|(?<![\p{L}\p{N}_])_(.+?)_(?![\p{L}\p{N}_])|\[(\d+)\]/gu, last = 0, m;
      while ((m = re.exec(text))) {
        if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
        if (m[1] != null) { var b = el("strong"); this.inline(b, m[1], citations, lang); parent.appendChild(b); }
        else if (m[2] != null) { var i = el("em"); this.inline(i, m[2], citations, lang); parent.appendChild(i); }
        else {
          var n = Number(m[3]), c = (citations || []).filter(function (x) { return x.n === n; })[0];
          parent.appendChild(c ? this.chip(c, lang || this.uiLang) : document.createTextNode(m[0]));
        }
        last = re.lastIndex;
      }
      if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
    }

    // ------------------------------------------------------------------ panels
    openPanel(kind, title, opener, lang) {
      var self = this;
      this.closePanel();
      var heading = el("h2", { id: "dqa-panel-title", tabindex: "-1", text: title });
      var content = el("div", { class: "content" });
      var closeBtn = el("button", { type: "button", "data-action": "close", "aria-label": this.t("close", lang),
        onclick: function () { self.closePanel(); } }, ["✕ " + this.t("close", lang)]);
      var panel = el("div", { class: "panel " + kind, role: "dialog", "aria-modal": "true",
        "aria-labelledby": "dqa-panel-title" }, [el("header", null, [heading, closeBtn]), content]);
      var backdrop = el("div", { class: "backdrop", onclick: function (e) { if (e.target === backdrop) self.closePanel(); } },
        [panel]);
      // on document, so Escape still works if focus fell back to <body> (e.g. a button got disabled)
      var onKey = function (e) {
        if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); self.closePanel(); }
        else if (e.key === "Tab") self.trapTab(e, panel);
      };
      document.addEventListener("keydown", onKey, true);
      this.root.appendChild(backdrop);
      this.panelState = { backdrop: backdrop, opener: opener, onKey: onKey };
      heading.focus();
      return content;
    }

    trapTab(e, panel) {
      var items = Array.prototype.filter.call(panel.querySelectorAll("button,[href],iframe,[tabindex]"),
        function (n) { return !n.disabled && n.getAttribute("tabindex") !== "-1"; });
      if (!items.length) return;
      var first = items[0], lastItem = items[items.length - 1], active = this.root.activeElement;
      if (!active || !panel.contains(active)) { e.preventDefault(); (e.shiftKey ? lastItem : first).focus(); }
      else if (e.shiftKey && active === first) { e.preventDefault(); lastItem.focus(); }
      else if (!e.shiftKey && active === lastItem) { e.preventDefault(); first.focus(); }
    }

    closePanel() {
      if (!this.panelState) return;
      var state = this.panelState;
      this.panelState = null;
      document.removeEventListener("keydown", state.onKey, true);
      state.backdrop.remove();
      if (state.opener && state.opener.isConnected) state.opener.focus();
    }

    openClause(c, opener, lang) {
      var self = this;
      var content = this.openPanel("clause-panel", this.t("citation", lang) + " [" + c.n + "] · " + c.doc, opener, lang);
      content.setAttribute("data-id", c.id);
      var facts = el("dl");
      [["number", c.doc], ["kind", c.kind], ["issued", c.issued], ["label", c.label]].forEach(function (f) {
        if (f[1]) facts.append(el("dt", { text: self.t(f[0], lang) }), el("dd", { text: String(f[1]) }));
      });
      content.append(facts, el("div", { class: "tag", text: this.t("quote", lang) }),
        el("blockquote", { class: "quote", lang: "vi", text: c.quote }));
      if (c.translation) {
        var source = c.translation_source === "machine" ? this.t("machine", lang)
          : c.translation_source === "commentary" ? this.t("commentary", lang) : this.t("translation", lang);
        content.append(el("div", { class: "tag", text: source }),
          el("blockquote", { class: "tr", lang: "en", text: c.translation }));
      }
      var full = el("div", { class: "full" });
      var tree = el("div", { class: "tree", hidden: true });
      var docBtn = el("button", { type: "button", "data-action": "open-document" }, [this.t("openDoc", lang)]);
      docBtn.addEventListener("click", function () { self.showDocument(c.doc, c.id, tree, docBtn, lang); });
      content.append(full, el("div", { class: "actions" }, [docBtn]), tree);
      this.fetchJSON("/v1/clauses/" + encodePath(c.id)).then(function (clause) {
        if (clause && clause.text && clause.text.trim() !== String(c.quote || "").trim()) {
          full.append(el("div", { class: "tag", text: self.t("fullText", lang) }),
            el("blockquote", { lang: "vi", text: clause.text }));
        }
      }).catch(function () { /* the quote is already shown */ });
    }

    openRelated(r, opener, lang) {
      var doc = r.id.split("#")[0];
      this.openClause({ n: "–", id: r.id, doc: doc, label: r.label, quote: r.quote }, opener, lang);
    }

    async showDocument(number, clauseId, tree, button, lang) {
      tree.hidden = false; button.disabled = true;
      tree.textContent = this.t("loading", lang);
      try {
        var doc = await this.fetchJSON("/v1/documents/" + encodePath(number));
        tree.textContent = "";
        var meta = [doc.kind, doc.number, doc.issued].filter(Boolean).join(" · ");
        tree.append(el("h3", { text: meta }), doc.subject ? el("p", { class: "note", text: doc.subject }) : null);
        var target = null;
        (doc.clauses || []).forEach(function (cl) {
          var depth = cl.parent == null ? 0 : String(cl.path).split(".").length - 1;
          var node = el("div", { class: "node" + (cl.id === clauseId ? " highlight" : ""), "data-id": cl.id,
            lang: "vi", style: "margin-left:" + Math.min(depth, 6) * 1.25 + "em" },
            [el("span", { class: "lbl", text: lang === "en" ? cl.label_en : cl.label_vi }), cl.text]);
          if (cl.id === clauseId) { node.setAttribute("aria-current", "true"); node.tabIndex = -1; target = node; }
          tree.appendChild(node);
        });
        if (target) { target.scrollIntoView({ block: "center" }); target.focus({ preventScroll: true }); }
      } catch (error) {
        tree.textContent = "";
        tree.appendChild(el("div", { class: "error", role: "alert", text: this.errorText(error, lang) }));
        button.disabled = false;
      }
    }

    async draft() {
      var question = this.input.value.trim() || this.lastQuestion;
      var lang = this.manualLang || !question ? this.uiLang : detectLang(question);
      var content = this.openPanel("article-panel", this.t("article", lang), this.draftBtn, lang);
      if (!question) { content.appendChild(el("p", { role: "status", text: this.t("needQuestion", lang) })); return; }
      var status = el("p", { class: "status", role: "status", text: this.t("loading", lang) });
      content.appendChild(status);
      try {
        var data = await this.draftStream(question, lang, status);
        status.remove();
        if (data && typeof data.html === "string") {
          // sandbox="" : no scripts, no forms, no same-origin access for the drafted HTML
          content.appendChild(el("iframe", { sandbox: "", title: this.t("article", lang), srcdoc: data.html }));
        } else if (data && typeof data.markdown === "string") {
          content.appendChild(el("pre", { text: data.markdown }));
        } else {
          content.appendChild(el("pre", { text: JSON.stringify(data, null, 2) }));
        }
      } catch (error) {
        status.remove();
        // a missing route (404 http_error / 405) means this server has no drafting; any other
        // 404 (e.g. document_not_found) carries a detail worth showing
        var missing = error.status === 405 || (error.status === 404 && (!error.code || error.code === "http_error"));
        var text = missing ? this.t("noArticle", lang) : this.errorText(error, lang);
        content.appendChild(el("p", { class: "error", role: "status", text: text }));
      }
    }

    // The streamed draft reports each clause machine-translated for an English article; a
    // server without the stream route gets the plain request.
    async draftStream(question, lang, status) {
      var body = JSON.stringify({ question: question, lang: lang, format: "html" });
      var res = await fetch(this.api + "/v1/articles/stream", { method: "POST", headers: this.headers(), body: body });
      if (res.status === 404 || res.status === 405) {
        return this.fetchJSON("/v1/articles", { method: "POST", body: body });
      }
      if (!res.ok) {
        var data = null;
        try { data = await res.json(); } catch (e) { data = null; }
        var err = new Error((data && data.detail) || res.status + " " + res.statusText);
        err.status = res.status; err.code = data && data.error; throw err;
      }
      var final = null, self = this;
      await this.readStream(res, null, function (block) {
        var parsed = parseEvent(block);
        if (!parsed) return;
        if (parsed.name === "progress") {
          var p = parsed.payload;
          status.textContent = self.t("translating", lang) + " " + p.done + "/" + p.total;
          status.setAttribute("data-done", String(p.done));
          status.setAttribute("data-total", String(p.total));
        } else if (parsed.name === "final") {
          final = parsed.payload;
        }
      });
      if (!final) throw new Error("stream ended early");
      return final;
    }

    // ------------------------------------------------------------------ copy
    copyText(turn) {
      var a = turn.final || {}, lang = turn.lang;
      var text = String(a.answer || turn.text).replace(/\*\*(.+?)\*\*/g, "$1").trim();
      if (turn.citations.length) {
        text += "\n\n" + this.t("sourcesCopy", lang) + "\n" + turn.citations.map(function (c) {
          return "[" + c.n + "] " + c.doc + ", " + c.label + ": “" + c.quote + "”";
        }).join("\n");
      }
      return text;
    }

    async copy(turn, note) {
      var text = this.copyText(turn), ok = false;
      try {
        if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); ok = true; }
      } catch (e) { ok = false; }
      if (!ok) {
        var area = el("textarea", { readonly: true, style: "position:fixed;top:-1000px;opacity:0" });
        area.value = text;
        document.body.appendChild(area);
        area.select();
        try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
        area.remove();
      }
      note.textContent = this.t(ok ? "copied" : "copyFailed", turn.lang);
    }
  }

  if (!customElements.get("directive-qa")) customElements.define("directive-qa", DirectiveQA);

  // ------------------------------------------------------------------ self-mount
  if (SCRIPT && !SCRIPT.hasAttribute("data-no-mount")) {
    var widget = document.createElement("directive-qa");
    var apiAttr = SCRIPT.getAttribute("data-api");
    var origin = "";
    try { origin = new URL(SCRIPT.src, location.href).origin; } catch (e) { origin = ""; }
    widget.api = apiAttr == null ? origin : apiAttr;   // "" = same origin as the page
    widget.uiLang = SCRIPT.getAttribute("data-lang") === "en" ? "en" : "vi";
    widget.apiKey = SCRIPT.getAttribute("data-api-key") || null;
    var mount = function () {
      var targetId = SCRIPT.getAttribute("data-target");
      var target = targetId && document.getElementById(targetId);
      if (target) target.appendChild(widget);
      else if (SCRIPT.parentNode) SCRIPT.parentNode.insertBefore(widget, SCRIPT.nextSibling);
      else document.body.appendChild(widget);
    };
    if (SCRIPT.getAttribute("data-target") && document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", mount);
    } else mount();
  }
})();
