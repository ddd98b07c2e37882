// nordcert sector map: the dependency graph drawn in SVG, written for this site (no libraries).
//
// The page embeds the reader's view of the map as JSON (#sectormap-data): exactly what the server's
// sector map service gives this reader. Nodes are laid out in columns by kind (process, system, service,
// provider, infrastructure), ordered within a column by the barycentre of their neighbours to keep curves
// from crossing. The graph is drawn once per filter change; zoom and pan only change one transform per
// animation frame, and labels are left out of sight when zoomed far out.
"use strict";
(() => {
  const source = document.getElementById("sectormap-data");
  const svg = document.getElementById("map-svg");
  if (!source || !svg) return;
  const data = JSON.parse(source.textContent);
  const NS = "http://www.w3.org/2000/svg";
  const KINDS = data.kind_order; // the page's JSON has its keys sorted: the columns' order is a list
  const COL_W = 215, NODE_W = 165, NODE_H = 28, ROW_H = 38, PAD = 30, TOP = 30, LABEL = 24;
  const MIN_HEIGHT = 320, MAX_HEIGHT = 680;
  const MIN_ZOOM = 0.05, MAX_ZOOM = 4, FAR = 0.5;

  const byId = new Map();
  for (const n of data.nodes) {
    n.deps = [];
    n.users = [];
    byId.set(n.id, n);
  }
  for (const [a, b] of data.edges) {
    const from = byId.get(a), to = byId.get(b);
    if (from && to) {
      from.deps.push(to);
      to.users.push(from);
    }
  }

  const $ = (id) => document.getElementById(id);
  const frame = $("map-frame"), viewport = $("map-viewport"), columnLayer = $("map-columns");
  const edgeLayer = $("map-edges"), nodeLayer = $("map-nodes"), tip = $("map-tip");
  const selectedBody = $("map-selected-body"), whatIfButton = $("whatif-button"), whatIfPanel = $("whatif");
  const statusLine = $("map-status"), orgFilter = $("f-org"), categoryFilter = $("f-category");
  const search = $("f-search");

  const view = { k: 1, x: 0, y: 0 };
  let visible = new Set(data.nodes.map((n) => n.id));
  let drawn = new Map(); // node id -> its <g>
  let edges = []; // {el, from, to}
  let selected = null;
  let bounds = { width: 0, height: 0 };
  let summary = "";

  // --- small helpers: elements built with textContent only, never markup from the data ---------------

  function html(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) el.append(c);
    return el;
  }

  function svgEl(tag, attrs) {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    return el;
  }

  const pct = (share) => `${Math.round(share * 1000) / 10} %`;
  const plural = (n, one, many) => `${n} ${n === 1 ? one : many || `${one}s`}`;
  const kindName = (kind) => data.kind_names[kind] || kind;
  const orgName = (n) => (n.org !== null && data.orgs[n.org] ? data.orgs[n.org].name : null);
  const typeName = (t) => (t.charAt(0).toUpperCase() + t.slice(1)).replace(/_/g, " ");

  // --- which nodes to draw -----------------------------------------------------------------------------

  function reach(starts, allowed) {
    const seen = new Set(starts.map((n) => n.id));
    const stack = starts.slice();
    while (stack.length) {
      for (const d of stack.pop().deps) {
        if (!seen.has(d.id) && allowed(d)) {
          seen.add(d.id);
          stack.push(d);
        }
      }
    }
    return seen;
  }

  function applyFilters() {
    let nodes = data.nodes;
    const org = orgFilter ? orgFilter.value : "";
    if (org) {
      // One member's part: its nodes and the shared ones they reach, as the server's graph view does.
      const id = Number(org);
      const own = nodes.filter((n) => n.org === id);
      const keep = reach(own, (d) => d.org === null || d.org === id);
      nodes = nodes.filter((n) => keep.has(n.id));
    }
    const category = categoryFilter.value;
    if (category) {
      const within = new Set(nodes.map((n) => n.id));
      const starts = nodes.filter((n) => n.kind === "process" && n.category === category);
      const keep = reach(starts, (d) => within.has(d.id));
      nodes = nodes.filter((n) => keep.has(n.id));
    }
    visible = new Set(nodes.map((n) => n.id));
    layout(nodes);
    draw(nodes);
    if (selected && !visible.has(selected.id)) clearSelection();
    else if (selected) select(selected, false);
    markMatches();
    fit(false);
  }

  // --- layout: columns by kind, barycentric order within each ------------------------------------------

  function layout(nodes) {
    const cols = KINDS.map(() => []);
    for (const n of nodes) cols[KINDS.indexOf(n.kind)].push(n);
    const initial = (a, b) => (orgName(a) || "").localeCompare(orgName(b) || "") ||
      (a.category || "").localeCompare(b.category || "") || a.name.localeCompare(b.name);
    const number = (col) => col.forEach((n, i) => { n.order = (i + 0.5) / col.length; });
    for (const col of cols) {
      col.sort(initial);
      number(col);
    }
    for (let sweep = 0; sweep < 6; sweep++) {
      const forward = sweep % 2 === 0;
      for (const col of forward ? cols : cols.slice().reverse()) {
        for (const n of col) {
          const near = (forward ? n.users : n.deps).filter((m) => visible.has(m.id) && m.kind !== n.kind);
          n.bary = near.length ? near.reduce((s, m) => s + m.order, 0) / near.length : n.order;
        }
        col.sort((a, b) => a.bary - b.bary || a.order - b.order);
        number(col);
      }
    }
    // Rows: the tallest column packed from the top; every other node as near as its order allows to the
    // mean row of its neighbours, so a provider sits by the services using it even in a map of hundreds.
    const tallest = cols.reduce((a, b) => (b.length > a.length ? b : a), cols[0]);
    cols.forEach((col) => col.forEach((n, i) => { n.row = col === tallest ? i : i + (tallest.length - col.length) / 2; }));
    for (let pass = 0; pass < 4; pass++) {
      for (const col of pass % 2 === 0 ? cols : cols.slice().reverse()) {
        if (col === tallest || !col.length) continue;
        for (const n of col) {
          const near = n.deps.concat(n.users).filter((m) => visible.has(m.id) && m.kind !== n.kind);
          n.want = near.length ? near.reduce((sum, m) => sum + m.row, 0) / near.length : n.row;
        }
        col.forEach((n, i) => { n.row = Math.max(n.want, i ? col[i - 1].row + 1 : 0); });
        for (let i = col.length - 2; i >= 0; i--) col[i].row = Math.min(col[i].row, col[i + 1].row - 1);
        const lift = Math.min(0, col[0].row);
        col.forEach((n) => { n.row -= lift; });
      }
    }
    let rows = 1;
    cols.forEach((col, c) => col.forEach((n) => {
      n.x = PAD + c * COL_W;
      n.y = TOP + PAD + n.row * ROW_H;
      rows = Math.max(rows, n.row + 1);
    }));
    bounds = { width: PAD * 2 + (KINDS.length - 1) * COL_W + NODE_W, height: TOP + PAD * 2 + rows * ROW_H, cols };
  }

  function curve(a, b) {
    const y1 = a.y + NODE_H / 2, y2 = b.y + NODE_H / 2;
    if (a.kind === b.kind) { // a system on another system: a loop out to the right of the column
      const x = a.x + NODE_W, bend = 30 + Math.min(140, Math.abs(y2 - y1) / 3);
      return `M${x},${y1} C${x + bend},${y1} ${x + bend},${y2} ${x + 2},${y2}`;
    }
    const x1 = a.x + NODE_W, x2 = b.x - 2, dx = Math.max(40, (x2 - x1) / 2);
    return `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`;
  }

  function draw(nodes) {
    columnLayer.replaceChildren();
    bounds.cols.forEach((col, c) => {
      const head = svgEl("text", { x: PAD + c * COL_W, y: PAD, class: "col-head" });
      head.textContent = `${data.kinds[KINDS[c]]} (${col.length})`;
      columnLayer.append(head);
    });
    const edgeFrag = document.createDocumentFragment();
    edges = [];
    for (const n of nodes) {
      for (const d of n.deps) {
        if (!visible.has(d.id)) continue;
        const el = svgEl("path", { d: curve(n, d), class: "edge", "marker-end": "url(#map-arrow)" });
        edges.push({ el, from: n, to: d });
        edgeFrag.append(el);
      }
    }
    edgeLayer.replaceChildren(edgeFrag);
    const nodeFrag = document.createDocumentFragment();
    drawn = new Map();
    for (const n of nodes) {
      const classes = ["node", `k-${n.kind}`];
      if (n.critical && n.kind === "process") classes.push("crit");
      if (n.unknown) classes.push("unknown");
      const label = `${kindName(n.kind)}: ${n.name}${orgName(n) ? `, ${orgName(n)}` : ""}` +
        `${classes.includes("crit") ? ", critical" : ""}${n.unknown ? ", not yet described" : ""}`;
      const g = svgEl("g", { class: classes.join(" "), transform: `translate(${n.x},${n.y})`, tabindex: "0",
        role: "button", "aria-label": label, "data-id": n.id });
      g.append(svgEl("rect", { width: NODE_W, height: NODE_H, rx: 5 }));
      if (classes.includes("crit")) g.append(svgEl("circle", { cx: 0, cy: 0, r: 6, class: "crit-mark" }));
      const text = svgEl("text", { x: 10, y: NODE_H / 2 + 4 });
      const name = n.name.length > LABEL ? `${n.name.slice(0, LABEL - 1)}…` : n.name;
      text.textContent = n.unknown ? `${name} ?` : name;
      g.append(text);
      drawn.set(n.id, g);
      nodeFrag.append(g);
    }
    nodeLayer.replaceChildren(nodeFrag);
    summary = `Showing ${plural(nodes.length, "node")} of ${data.nodes.length}, ` +
      `${plural(edges.length, "dependency", "dependencies")}.`;
    statusLine.textContent = summary;
    // A small map gets a frame its size; a large one the tallest frame, to zoom and pan in.
    const width = svg.clientWidth || 800;
    const fitted = Math.round(bounds.height * Math.min(1.25, width / bounds.width)) + 16;
    svg.style.height = `${Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, fitted))}px`;
  }

  // --- selection: what depends on a node, and what it depends on, transitively --------------------------

  function closure(start, step) {
    const seen = new Set();
    const stack = [start];
    while (stack.length) {
      for (const m of stack.pop()[step]) {
        if (visible.has(m.id) && !seen.has(m.id) && m !== start) {
          seen.add(m.id);
          stack.push(m);
        }
      }
    }
    return seen;
  }

  function select(n, announce = true) {
    selected = n;
    const up = closure(n, "users"), down = closure(n, "deps");
    svg.classList.add("has-selection");
    for (const [id, g] of drawn) {
      g.classList.toggle("sel", id === n.id);
      g.classList.toggle("up", up.has(id));
      g.classList.toggle("down", down.has(id));
      g.classList.remove("lost");
      g.setAttribute("aria-pressed", id === n.id ? "true" : "false");
    }
    for (const e of edges) {
      const isUp = up.has(e.from.id) && (up.has(e.to.id) || e.to === n);
      const isDown = (down.has(e.from.id) || e.from === n) && down.has(e.to.id);
      e.el.classList.toggle("up", isUp);
      e.el.classList.toggle("down", isDown && !isUp);
    }
    if (announce) showSelected(n, up.size, down.size);
  }

  function clearSelection() {
    selected = null;
    svg.classList.remove("has-selection");
    for (const g of drawn.values()) g.classList.remove("sel", "up", "down", "lost");
    for (const e of edges) e.el.classList.remove("up", "down");
    selectedBody.replaceChildren(html("p", { class: "muted small" }, "Click a node to see what depends on it."));
    whatIfButton.hidden = true;
  }

  function facts(n) {
    const rows = [["Kind", kindName(n.kind)]];
    if (n.category_name) rows.push([n.kind === "process" ? "Category" : "Type", n.category_name]);
    if (orgName(n)) rows.push(["Member", orgName(n)]);
    else rows.push(["Maintained", n.kind === "provider" ? "sector-wide provider" : "shared infrastructure"]);
    if (n.kind === "process") rows.push(["Critical", n.critical ? "yes, critical or important" : "no"]);
    if (n.unknown) rows.push(["Described", "not yet (unknown)"]);
    if (n.functions !== null) {
      rows.push(["Depending", `${plural(n.functions, "critical function")} of ${plural(n.members, "member")}` +
        ` (${pct(n.share)} of the sector's)`]);
    }
    return rows;
  }

  function showSelected(n, upCount, downCount) {
    const dl = html("dl", { class: "facts" });
    for (const [k, v] of facts(n)) dl.append(html("dt", {}, k), html("dd", {}, v));
    dl.append(html("dt", {}, "Here"), html("dd", {}, `${upCount} depend on it, it depends on ${downCount} ` +
      `(of those shown)`));
    selectedBody.replaceChildren(html("h3", { id: "selected-name" }, n.name), dl);
    const allowed = data.scope === "sector" || n.org === data.own_org || n.functions !== null;
    whatIfButton.hidden = false;
    whatIfButton.disabled = !allowed;
    whatIfButton.title = allowed ? "" : "Offered for your own nodes and the shared ones your critical functions " +
      "or several members' depend on";
  }

  // --- what if this is down ------------------------------------------------------------------------------

  async function whatIf(n) {
    const params = new URLSearchParams([["down", n.id]]);
    if (categoryFilter.value) params.append("function_category", categoryFilter.value);
    whatIfPanel.hidden = false;
    whatIfPanel.replaceChildren(html("h2", {}, `What if ${n.name} is down`),
      html("p", { class: "muted" }, "Working it out…"));
    let body;
    try {
      const answer = await fetch(`/sectormap/what-if?${params}`, { headers: { Accept: "application/json" },
        credentials: "same-origin" });
      body = await answer.json();
      if (!answer.ok) throw new Error(body.message || answer.statusText);
    } catch (err) {
      whatIfPanel.replaceChildren(html("h2", {}, `What if ${n.name} is down`),
        html("p", { class: "error", role: "alert" }, `No answer: ${err.message}`));
      return;
    }
    showWhatIf(n, body);
  }

  function table(head, rows) {
    const t = html("table", { class: "list compact" });
    t.append(html("thead", {}, html("tr", {}, ...head.map((h) => html("th", { scope: "col" }, h)))));
    const tb = html("tbody");
    for (const r of rows) tb.append(html("tr", {}, ...r.map((c) => html("td", {}, c))));
    t.append(tb);
    return t;
  }

  function showWhatIf(n, body) {
    const what = body.function_category ? `${data.categories[body.function_category].toLowerCase()} function` :
      "critical function";
    const parts = [html("h2", {}, `What if ${n.name} is down`),
      html("p", { class: "whatif-total", id: "whatif-total" },
        `${plural(body.functions, what)} lost: ${pct(body.function_share)} of the sector's ${what}s; ` +
        `${pct(body.member_share)} of members lose at least one.`)];
    const counts = Object.entries(body.lost_counts).filter(([, c]) => c).map(([k, c]) => `${data.kinds[k]} ${c}`);
    if (counts.length) parts.push(html("p", { class: "muted small" }, `Out with it: ${counts.join(" · ")}.`));
    const lost = new Set();
    if (body.scope === "sector") {
      parts.push(html("h3", {}, "By member"));
      parts.push(body.members.length ? table(["Member", "Functions lost"], body.members.map((m) => {
        m.lost.forEach((p) => lost.add(p.id));
        return [m.organisation.name, html("span", {}, `${m.lost.length} of ${m.total_functions}: `,
          html("span", { class: "muted" }, m.lost.map((p) => p.name).join(", ")))];
      })) : html("p", { class: "empty" }, "No member loses a function."));
      for (const ids of Object.values(body.lost)) ids.forEach((p) => lost.add(p.id));
    } else {
      const own = body.own;
      parts.push(html("h3", {}, "Your organisation"));
      parts.push(html("p", { id: "whatif-own" }, `${own.lost.length} of your ${plural(own.total_functions, what)} lost` +
        (own.lost.length ? ":" : ".")));
      if (own.lost.length) parts.push(html("ul", { class: "plain" }, ...own.lost.map((p) => html("li", {}, p.name))));
      own.lost.forEach((p) => lost.add(p.id));
      closure(n, "users").forEach((id) => lost.add(id));
    }
    parts.push(html("h3", {}, "By type of member"));
    parts.push(body.by_member_type.length ? table(["Type", "Members", "Functions"], body.by_member_type.map((t) =>
      [typeName(t.member_type), String(t.members), String(t.functions)])) :
      html("p", { class: "empty" }, "Nothing lost."));
    whatIfPanel.replaceChildren(...parts);
    lost.add(n.id);
    for (const [id, g] of drawn) g.classList.toggle("lost", lost.has(id));
  }

  // --- search ---------------------------------------------------------------------------------------

  function matches() {
    const q = search.value.trim().toLowerCase();
    if (!q) return [];
    return data.nodes.filter((n) => visible.has(n.id) && n.name.toLowerCase().includes(q));
  }

  function markMatches() {
    const found = new Set(matches().map((n) => n.id));
    svg.classList.toggle("searching", found.size > 0);
    for (const [id, g] of drawn) g.classList.toggle("match", found.has(id));
    statusLine.textContent = search.value.trim() ? `${plural(found.size, "node")} named like ` +
      `“${search.value.trim()}”${found.size ? "; Enter selects the first." : "."}` : summary;
  }

  // --- zoom and pan: one transform per animation frame --------------------------------------------------

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      viewport.setAttribute("transform", `translate(${view.x.toFixed(1)},${view.y.toFixed(1)}) scale(${view.k.toFixed(4)})`);
      svg.classList.toggle("far", view.k < FAR);
    });
  }

  function zoomAt(px, py, factor) {
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    schedule();
  }

  // The whole map in the frame; or, when that would make the labels too small to read (a map of hundreds
  // of nodes) and ``whole`` is not asked for, its full width from the top, to pan down from.
  function fit(whole = true) {
    const w = svg.clientWidth || 800, h = svg.clientHeight || 600;
    const all = Math.min(w / bounds.width, h / bounds.height, 1.25);
    view.k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, whole || all >= FAR ? all : Math.min(w / bounds.width, 1.25)));
    view.x = (w - bounds.width * view.k) / 2;
    view.y = Math.max(0, (h - bounds.height * view.k) / 2);
    schedule();
    if (!whole && all < FAR) statusLine.textContent = `${summary} Shown from the top; Fit shows all of it.`;
  }

  function centre(n) {
    const w = svg.clientWidth || 800, h = svg.clientHeight || 600;
    view.k = Math.max(view.k, 1);
    view.x = w / 2 - (n.x + NODE_W / 2) * view.k;
    view.y = h / 2 - (n.y + NODE_H / 2) * view.k;
    schedule();
  }

  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    zoomAt(event.clientX - box.left, event.clientY - box.top, Math.exp(-event.deltaY * 0.0015));
  }, { passive: false });

  let drag = null, moved = false;
  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, vx: view.x, vy: view.y, id: event.pointerId };
    moved = false;
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    if (!moved) {
      moved = true;
      svg.setPointerCapture(drag.id);
      svg.classList.add("panning");
      tip.hidden = true;
    }
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    schedule();
  });
  const endDrag = () => {
    drag = null;
    svg.classList.remove("panning");
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  function nodeOf(target) {
    const g = target instanceof Element ? target.closest("g.node") : null;
    return g ? byId.get(g.getAttribute("data-id")) : null;
  }

  svg.addEventListener("click", (event) => {
    if (moved) { // the end of a drag, not a click
      moved = false;
      return;
    }
    const n = nodeOf(event.target);
    if (n) select(n);
    else clearSelection();
  });
  svg.addEventListener("keydown", (event) => {
    const n = nodeOf(event.target);
    if (n && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      select(n);
    } else if (event.key === "Escape") clearSelection();
  });

  // --- hover: the node's details in a tooltip -----------------------------------------------------------

  nodeLayer.addEventListener("pointerover", (event) => {
    const n = nodeOf(event.target);
    if (!n || drag) return;
    const lines = facts(n).map(([k, v]) => html("div", {}, html("span", { class: "muted" }, `${k}: `), v));
    tip.replaceChildren(html("strong", {}, n.name), ...lines);
    const box = frame.getBoundingClientRect();
    tip.style.left = `${Math.min(event.clientX - box.left + 14, box.width - 280)}px`;
    tip.style.top = `${event.clientY - box.top + 14}px`;
    tip.hidden = false;
  });
  nodeLayer.addEventListener("pointerout", (event) => {
    if (!nodeOf(event.relatedTarget)) tip.hidden = true;
  });

  // --- the controls ----------------------------------------------------------------------------------

  whatIfButton.addEventListener("click", () => { if (selected) whatIf(selected); });
  $("zoom-in").addEventListener("click", () => zoomAt(svg.clientWidth / 2, svg.clientHeight / 2, 1.25));
  $("zoom-out").addEventListener("click", () => zoomAt(svg.clientWidth / 2, svg.clientHeight / 2, 0.8));
  $("zoom-fit").addEventListener("click", () => fit(true));
  $("map-tools").addEventListener("submit", (event) => {
    event.preventDefault();
    const first = matches()[0];
    if (first) {
      select(first);
      centre(first);
    }
  });
  if (orgFilter) orgFilter.addEventListener("change", applyFilters);
  categoryFilter.addEventListener("change", applyFilters);
  search.addEventListener("input", markMatches);

  // The filters and a node to select may come in the address (links from the concentration page).
  const query = new URLSearchParams(window.location.search);
  if (orgFilter && query.get("org")) orgFilter.value = query.get("org");
  if (query.get("category") && data.categories[query.get("category")]) categoryFilter.value = query.get("category");
  if (query.get("q")) search.value = query.get("q");
  applyFilters();
  const focus = byId.get(query.get("node") || "");
  if (focus && visible.has(focus.id)) {
    select(focus);
    centre(focus);
  }
})();
