/* hclust report: the dendrogram explorer (our own canvas code) and the Plotly charts.
   Data come from the JSON block #hclust-data; Plotly from the gzip+base64 block #plotly-gz.
   No network access: everything needed is in this file. */
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("hclust-data").textContent);
  var DETAILS = DATA.details || {};
  var n = DATA.n;
  var state = { k: DATA.k, plotly: false, plotlyError: null, hover: null, drawn: 0, collapsedDrawn: 0 };
  var readyResolve;
  var api = { ready: new Promise(function (resolve) { readyResolve = resolve; }), errors: [] };
  window.hclustReport = api;

  // ------------------------------------------------------------------ decoding

  function base64Bytes(text) {
    var binary = atob(text.trim());
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function gunzip(text) {
    var stream = new Blob([base64Bytes(text)]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  // ------------------------------------------------------------------ tree

  var T = {};  // left, right, height, count, parent, maxdistSorted

  function buildTree(childrenBuf, heightsBuf) {
    var ch = new Int32Array(childrenBuf);
    var h = new Float64Array(heightsBuf);
    var m = n - 1;
    var total = 2 * n - 1;
    var left = new Int32Array(total).fill(-1);
    var right = new Int32Array(total).fill(-1);
    var height = new Float64Array(total);
    var count = new Float64Array(total);
    var parent = new Int32Array(total).fill(-1);
    var maxdist = new Float64Array(Math.max(m, 0));
    var maxH = 0;
    for (var j = 0; j < n; j++) count[j] = 1;
    // Rows are in merge order: children always come before their parent.
    for (var i = 0; i < m; i++) {
      var node = n + i, a = ch[2 * i], b = ch[2 * i + 1];
      left[node] = a; right[node] = b;
      height[node] = h[i];
      count[node] = count[a] + count[b];
      parent[a] = node; parent[b] = node;
      var md = h[i];
      if (a >= n && maxdist[a - n] > md) md = maxdist[a - n];
      if (b >= n && maxdist[b - n] > md) md = maxdist[b - n];
      maxdist[i] = md;
      if (h[i] > maxH) maxH = h[i];
    }
    var sorted = Float64Array.from(maxdist).sort().reverse();
    T = { left: left, right: right, height: height, count: count, parent: parent,
          maxdistSorted: sorted, maxH: maxH > 0 ? maxH : 1, root: 2 * n - 2,
          seg: new Int32Array(total), x: new Float64Array(total) };
  }

  // Number of clusters a cut at height h gives: 1 + merges whose subtree reaches above h.
  function kAtHeight(h) {
    var s = T.maxdistSorted, lo = 0, hi = s.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (s[mid] > h) lo = mid + 1; else hi = mid; }
    return lo + 1;
  }

  function nearestK(k) {
    var best = DATA.ks[0];
    for (var i = 0; i < DATA.ks.length; i++) {
      if (Math.abs(DATA.ks[i] - k) < Math.abs(best - k)) best = DATA.ks[i];
    }
    return best;
  }

  // Segment of every node for the current k (-1 above the cut), top-down without recursion.
  function colourNodes() {
    var seg = T.seg, roots = DATA.segments[String(state.k)].roots;
    seg.fill(-1);
    var isRoot = new Int32Array(2 * n - 1).fill(-1);
    for (var s = 0; s < roots.length; s++) isRoot[roots[s]] = s;
    for (var node = 2 * n - 2; node >= 0; node--) {
      if (isRoot[node] >= 0) seg[node] = isRoot[node];
      else if (T.parent[node] >= 0) seg[node] = seg[T.parent[node]];
    }
  }

  function palette() {
    return state.k <= 10 ? DATA.palette10 : DATA.palette20;
  }
  function segColour(s) {
    if (s < 0) return "#8a929b";
    var p = palette();
    return p[s % p.length];
  }

  // ------------------------------------------------------------------ visible tree

  // Big trees open collapsed: only the last MAX_OPEN merges holding at least
  // minCount leaves are expanded; the rest are drawn as triangles with counts.
  var MAX_OPEN = 2000;
  var minCount = n <= 2000 ? 1 : Math.ceil(n / 500);
  var openFrom = 2 * n - 1 - MAX_OPEN;
  var overrides = new Map();
  var visible = [];   // node ids, pre-order
  var nSlots = 1;

  function expanded(node) {
    if (node < n) return false;
    if (overrides.has(node)) return overrides.get(node);
    return node >= openFrom && T.count[node] >= minCount;
  }

  function layoutTree() {
    var order = [], stack = [T.root], x = T.x, slot = 0;
    while (stack.length) {
      var node = stack.pop();
      order.push(node);
      if (expanded(node)) { stack.push(T.right[node]); stack.push(T.left[node]); }
      else { x[node] = slot + 0.5; slot += 1; }
    }
    for (var i = order.length - 1; i >= 0; i--) {
      var v = order[i];
      if (expanded(v)) x[v] = 0.5 * (x[T.left[v]] + x[T.right[v]]);
    }
    visible = order;
    nSlots = Math.max(slot, 1);
  }

  // ------------------------------------------------------------------ drawing

  var canvas = document.getElementById("tree");
  var ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("tooltip");
  var PAD = { left: 56, right: 14, top: 14, bottom: 30 };
  var view = { x0: 0, x1: 1, y0: 0, y1: 1 };
  var cutDrag = null;  // height while the cut line is dragged

  function resetView() {
    view = { x0: 0, x1: nSlots, y0: 0, y1: T.maxH * 1.06 };
  }
  function size() {
    return { w: canvas.clientWidth, h: canvas.clientHeight };
  }
  function sx(wx) { var s = size(); return PAD.left + (wx - view.x0) / (view.x1 - view.x0) * (s.w - PAD.left - PAD.right); }
  function sy(wy) { var s = size(); return s.h - PAD.bottom - (wy - view.y0) / (view.y1 - view.y0) * (s.h - PAD.top - PAD.bottom); }
  function wx(px) { var s = size(); return view.x0 + (px - PAD.left) / (s.w - PAD.left - PAD.right) * (view.x1 - view.x0); }
  function wy(py) { var s = size(); return view.y0 + (s.h - PAD.bottom - py) / (s.h - PAD.top - PAD.bottom) * (view.y1 - view.y0); }

  function nodeY(node) { return node < n ? 0 : T.height[node]; }
  // Screen y of a node's drawn point; collapsed triangles are at least TRI_MIN px tall,
  // so low subtrees stay visible and hoverable.
  var TRI_MIN = 14;
  function nodeSy(node) {
    var y = sy(nodeY(node));
    return (node >= n && !expanded(node)) ? Math.min(y, sy(0) - TRI_MIN) : y;
  }

  function cutHeight() {
    return cutDrag !== null ? cutDrag : DATA.segments[String(state.k)].cut_height;
  }

  function draw() {
    var dpr = window.devicePixelRatio || 1, s = size();
    if (canvas.width !== Math.round(s.w * dpr) || canvas.height !== Math.round(s.h * dpr)) {
      canvas.width = Math.round(s.w * dpr); canvas.height = Math.round(s.h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, s.w, s.h);
    drawAxis(s);
    ctx.save();
    ctx.beginPath();
    ctx.rect(PAD.left, PAD.top - 4, s.w - PAD.left - PAD.right, s.h - PAD.top - PAD.bottom + 8);
    ctx.clip();
    var groups = new Map(), tris = [], drawn = 0, collapsed = 0;
    function seg(a, b, c, d, colourKey) {
      var g = groups.get(colourKey);
      if (!g) { g = []; groups.set(colourKey, g); }
      g.push(a, b, c, d);
    }
    var slotPx = (s.w - PAD.left - PAD.right) / (view.x1 - view.x0);
    for (var i = 0; i < visible.length; i++) {
      var node = visible[i];
      drawn++;
      var x = sx(T.x[node]);
      if (expanded(node)) {
        var l = T.left[node], r = T.right[node], y = sy(T.height[node]);
        var xl = sx(T.x[l]), xr = sx(T.x[r]);
        if (Math.max(xl, xr) < PAD.left - 50 || Math.min(xl, xr) > s.w + 50) continue;
        seg(xl, nodeSy(l), xl, y, T.seg[l]);
        seg(xr, nodeSy(r), xr, y, T.seg[r]);
        seg(xl, y, xr, y, T.seg[node]);
      } else if (node >= n) {
        collapsed++;
        tris.push(node);
      }
    }
    ctx.lineWidth = visible.length > 3000 ? 1 : 1.4;
    groups.forEach(function (coords, key) {
      ctx.strokeStyle = segColour(key);
      ctx.beginPath();
      for (var j = 0; j < coords.length; j += 4) { ctx.moveTo(coords[j], coords[j + 1]); ctx.lineTo(coords[j + 2], coords[j + 3]); }
      ctx.stroke();
    });
    var half = Math.max(Math.min(slotPx * 0.42, 40), 1.5);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "center";
    for (var t = 0; t < tris.length; t++) {
      var v = tris[t], cx = sx(T.x[v]);
      if (cx < PAD.left - half || cx > s.w + half) continue;
      var top = nodeSy(v), bottom = sy(0);
      ctx.beginPath();
      ctx.moveTo(cx, top); ctx.lineTo(cx - half, bottom); ctx.lineTo(cx + half, bottom); ctx.closePath();
      ctx.fillStyle = segColour(T.seg[v]);
      ctx.globalAlpha = 0.35; ctx.fill(); ctx.globalAlpha = 1;
      ctx.strokeStyle = segColour(T.seg[v]); ctx.stroke();
    }
    ctx.restore();
    // counts under collapsed nodes, where there is room
    ctx.fillStyle = "#333";
    for (var u = 0; u < tris.length; u++) {
      var w = tris[u], px = sx(T.x[w]);
      var label = String(T.count[w]);
      if (slotPx >= label.length * 6.5 + 4 && px > PAD.left && px < s.w - PAD.right) ctx.fillText(label, px, s.h - PAD.bottom + 13);
    }
    drawCut(s);
    state.drawn = drawn;
    state.collapsedDrawn = collapsed;
  }

  function drawAxis(s) {
    ctx.strokeStyle = "#b9c0c8"; ctx.fillStyle = "#5f6b7a"; ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
    ctx.beginPath(); ctx.moveTo(PAD.left - 4, PAD.top); ctx.lineTo(PAD.left - 4, s.h - PAD.bottom); ctx.stroke();
    var span = view.y1 - view.y0, step = Math.pow(10, Math.floor(Math.log10(span / 5)));
    if (span / step > 10) step *= 2;
    if (span / step > 10) step *= 2.5;
    for (var v = Math.ceil(view.y0 / step) * step; v <= view.y1; v += step) {
      var y = sy(v);
      ctx.beginPath(); ctx.moveTo(PAD.left - 8, y); ctx.lineTo(PAD.left - 4, y); ctx.stroke();
      ctx.fillText(fmt(v), PAD.left - 10, y);
    }
    ctx.save(); ctx.translate(12, (s.h - PAD.bottom + PAD.top) / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center"; ctx.fillText("height", 0, 0); ctx.restore();
    ctx.textBaseline = "alphabetic";
  }

  function drawCut(s) {
    var h = cutHeight();
    if (h === null || h === undefined) return;
    var y = sy(h);
    if (y < PAD.top - 2 || y > s.h - PAD.bottom + 2) return;
    ctx.save();
    ctx.strokeStyle = "#c0392b"; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
    ctx.beginPath(); ctx.moveTo(PAD.left, y); ctx.lineTo(s.w - PAD.right, y); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#c0392b"; ctx.font = "bold 11px system-ui, sans-serif"; ctx.textAlign = "right";
    ctx.fillText("k = " + state.k + "  \u2195 drag", s.w - PAD.right - 4, y - 5);
    ctx.restore();
  }

  function fmt(v) {
    if (v === null || v === undefined || isNaN(v)) return "\u2013";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
    return String(Math.round(v * 1000) / 1000);
  }

  // ------------------------------------------------------------------ interaction

  function nodeAt(px, py) {
    var best = -1, bestD = 9 * 9, s = size();
    var slotPx = (s.w - PAD.left - PAD.right) / (view.x1 - view.x0);
    var half = Math.max(Math.min(slotPx * 0.42, 40), 1.5);
    for (var i = 0; i < visible.length; i++) {
      var node = visible[i], x = sx(T.x[node]), y = nodeSy(node);
      var dx = x - px, dy = y - py, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = node; }
      if (node >= n && !expanded(node) && best !== node) {
        // inside a collapsed triangle
        var bottom = sy(0), top = y;
        if (py >= top && py <= bottom) {
          var frac = (py - top) / Math.max(bottom - top, 1);
          if (Math.abs(px - x) <= half * frac + 2) { best = node; bestD = 0; }
        }
      }
    }
    return best;
  }

  function toggle(node) {
    if (node < n) return false;
    overrides.set(node, !expanded(node));
    layoutTree();
    // keep the clicked node in place: shift the view if the slot count changed
    resetXIfOut();
    draw();
    return true;
  }

  function resetXIfOut() {
    if (view.x1 > nSlots || view.x0 < 0 || view.x1 - view.x0 > nSlots) { view.x0 = 0; view.x1 = nSlots; }
  }

  function collapseTop() {
    overrides.clear();
    layoutTree();
    resetView();
    draw();
  }

  function showTooltip(node, px, py) {
    if (node < 0) { tooltip.hidden = true; state.hover = null; return; }
    state.hover = node;
    var count = T.count[node], seg = T.seg[node], segs = DATA.segments[String(state.k)];
    var html = "<b>" + (node < n ? "Row " + node : "Node " + node) + "</b> &middot; " + count.toLocaleString() +
      (count === 1 ? " row" : " rows") + " (" + (100 * count / n).toFixed(1) + "%)";
    if (node >= n) html += " &middot; height " + fmt(T.height[node]);
    if (seg >= 0) {
      html += "<br><span class=\"swatch\" style=\"background:" + segColour(seg) + "\"></span>Segment " + seg +
        ": " + escapeHtml(segs.names[seg]);
    } else {
      html += "<br>Above the cut: spans several segments";
    }
    var prof = DATA.node_profiles[String(node)];
    if (prof && prof.length) {
      html += "<br><i>This node vs the rest (prepared features):</i><br>" + prof.map(function (p) {
        return escapeHtml(p[0]) + " " + (p[1] >= 0 ? "+" : "") + p[1].toFixed(2);
      }).join("; ");
    }
    if (seg >= 0) {
      html += "<br><i>Segment profile:</i><br>" + segs.top[seg].map(function (t) {
        return escapeHtml(t[0]) + (t[1] !== null ? " (" + (t[1] >= 0 ? "+" : "") + t[1].toFixed(2) + ")" : "");
      }).join("; ");
    }
    tooltip.innerHTML = html;
    tooltip.hidden = false;
    var wrap = canvas.parentNode.getBoundingClientRect();
    var left = px + 14, top = py + 14;
    if (left + tooltip.offsetWidth > wrap.width) left = px - tooltip.offsetWidth - 10;
    if (top + tooltip.offsetHeight > wrap.height) top = py - tooltip.offsetHeight - 10;
    tooltip.style.left = Math.max(0, left) + "px";
    tooltip.style.top = Math.max(0, top) + "px";
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }

  function localPos(ev) {
    var r = canvas.getBoundingClientRect();
    return { x: ev.clientX - r.left, y: ev.clientY - r.top };
  }

  var press = null;
  canvas.addEventListener("mousedown", function (ev) {
    var p = localPos(ev), h = cutHeight();
    if (h !== null && Math.abs(p.y - sy(h)) <= 6 && p.x >= PAD.left) {
      cutDrag = h;
      canvas.classList.add("dragging-cut");
      press = { mode: "cut" };
    } else {
      press = { mode: "pan", x: p.x, y: p.y, view: Object.assign({}, view), moved: false };
    }
    ev.preventDefault();
  });
  window.addEventListener("mousemove", function (ev) {
    var p = localPos(ev);
    if (press && press.mode === "cut") {
      var h = Math.max(0, Math.min(wy(p.y), T.maxH * 1.05));
      cutDrag = h;
      var k = nearestK(kAtHeight(h));
      if (k !== state.k) setK(k); else draw();
      return;
    }
    if (press && press.mode === "pan") {
      var dx = p.x - press.x, dy = p.y - press.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) press.moved = true;
      if (press.moved) {
        var s = size();
        var fx = (press.view.x1 - press.view.x0) / (s.w - PAD.left - PAD.right);
        var fy = (press.view.y1 - press.view.y0) / (s.h - PAD.top - PAD.bottom);
        view.x0 = press.view.x0 - dx * fx; view.x1 = press.view.x1 - dx * fx;
        view.y0 = press.view.y0 + dy * fy; view.y1 = press.view.y1 + dy * fy;
        tooltip.hidden = true;
        draw();
      }
      return;
    }
    if (ev.target === canvas) {
      var h2 = cutHeight();
      canvas.style.cursor = (h2 !== null && Math.abs(p.y - sy(h2)) <= 6) ? "ns-resize" : "";
      showTooltip(nodeAt(p.x, p.y), p.x, p.y);
    }
  });
  window.addEventListener("mouseup", function (ev) {
    if (!press) return;
    var p = localPos(ev);
    if (press.mode === "cut") {
      cutDrag = null;
      canvas.classList.remove("dragging-cut");
      draw();
    } else if (!press.moved && ev.target === canvas) {
      var node = nodeAt(p.x, p.y);
      if (node >= n) toggle(node);
    }
    press = null;
  });
  canvas.addEventListener("mouseleave", function () { if (!press) { tooltip.hidden = true; state.hover = null; } });
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var p = localPos(ev), factor = Math.exp(ev.deltaY * 0.0015);
    if (ev.shiftKey) {
      var cy = wy(p.y);
      view.y0 = cy - (cy - view.y0) * factor; view.y1 = cy + (view.y1 - cy) * factor;
    } else {
      var cx = wx(p.x), width = (view.x1 - view.x0) * factor;
      width = Math.min(Math.max(width, 2), nSlots * 1.2);
      var frac = (cx - view.x0) / (view.x1 - view.x0);
      view.x0 = cx - frac * width; view.x1 = view.x0 + width;
    }
    draw();
  }, { passive: false });
  canvas.addEventListener("dblclick", function () { resetView(); draw(); });
  document.getElementById("reset-view").addEventListener("click", function () { resetView(); draw(); });
  document.getElementById("collapse-top").addEventListener("click", collapseTop);
  window.addEventListener("resize", function () { draw(); });

  // ------------------------------------------------------------------ k

  var kSelect = document.getElementById("k-select");
  DATA.ks.forEach(function (k) {
    var opt = document.createElement("option");
    opt.value = String(k);
    opt.textContent = String(k) + (k === DATA.evaluation.recommended_k ? " (recommended)" : "") + (k === DATA.k ? " (chosen)" : "");
    kSelect.appendChild(opt);
  });
  kSelect.value = String(state.k);
  kSelect.addEventListener("change", function () { setK(parseInt(kSelect.value, 10)); });

  function setK(k) {
    if (!DATA.segments[String(k)]) throw new Error("k=" + k + " is not offered; choose one of " + DATA.ks.join(", "));
    state.k = k;
    kSelect.value = String(k);
    colourNodes();
    draw();
    renderTable();
    renderCharts();
  }

  // The labels of the current cut as CSV: the row's identifier (the table's ID column, or
  // its position), segment, name. Text that spreadsheets would run as a formula gets a
  // leading ' (OWASP), unless the report was written with escape_formulas=False.
  var ids = null;  // decoded at start when the report has them
  var escaped = 0;
  function labelsCsv() {
    var names = DATA.segments[String(state.k)].names;
    escaped = 0;
    var lines = [csvField(DATA.id_name || "row") + ",segment,segment_name"];
    for (var leaf = 0; leaf < n; leaf++) {
      var s = T.seg[leaf];
      var id = ids ? (ids[leaf] === null ? "" : ids[leaf]) : leaf;
      lines.push(csvField(id) + "," + s + "," + csvField(s >= 0 ? names[s] : ""));
    }
    return lines.join("\n") + "\n";
  }

  function csvField(value) {
    var text = String(value);
    if (typeof value === "string" && DATA.escape_formulas && /^[=+\-@\t\r]/.test(text)) {
      text = "'" + text;
      escaped++;
    }
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  document.getElementById("download-labels").addEventListener("click", function () {
    var blob = new Blob([labelsCsv()], { type: "text/csv" });
    document.getElementById("download-note").textContent = escaped
      ? escaped.toLocaleString() + " value" + (escaped === 1 ? "" : "s") + " starting with =, +, -, @, tab or CR " +
        (escaped === 1 ? "was" : "were") + " written with a leading ' so that spreadsheets show " +
        (escaped === 1 ? "it" : "them") + " as text instead of running a formula."
      : "";
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "segments_k" + state.k + ".csv";
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
  });

  function renderTable() {
    var segs = DATA.segments[String(state.k)];
    var body = document.querySelector("#segment-table tbody");
    var rows = [];
    for (var s = 0; s < state.k; s++) {
      var top = segs.top[s].map(featureText).join("; ");
      var stable = stabilityOf(s);
      rows.push("<tr data-segment=\"" + s + "\" data-color=\"" + segColour(s) + "\"><td><span class=\"swatch\" style=\"background:" +
        segColour(s) + "\"></span></td><td>" + s + "</td><td>" + escapeHtml(segs.names[s]) + "</td><td class=\"num\">" +
        segs.sizes[s].toLocaleString() + "</td><td class=\"num\">" + (100 * segs.shares[s]).toFixed(1) +
        "%</td><td class=\"num stability\">" + (stable === null ? "\u2013" : stable.toFixed(2)) +
        "</td><td class=\"features\">" + top + "</td></tr>");
    }
    body.innerHTML = rows.join("");
    var note = document.getElementById("stability-note");
    note.textContent = DETAILS.stability
      ? "Stability (k=" + DATA.k + " only): " + (DETAILS.stability_note || "mean bootstrap Jaccard") +
        "; below 0.6 a segment is not stable, above 0.85 highly stable."
      : "Stability: not measured for this report.";
  }

  // A distinguishing feature: "High x (+1.20)", or for a category its shares "All c=v (100% vs 0%)".
  function featureText(t) {
    if (t[3] !== null && t[3] !== undefined && t[4] !== null && t[4] !== undefined) {
      return escapeHtml(t[0]) + " (" + percent(t[3]) + " vs " + percent(t[4]) + ")";
    }
    return escapeHtml(t[0]) + (t[1] !== null ? " (" + (t[1] >= 0 ? "+" : "") + t[1].toFixed(2) + ")" : "");
  }

  function percent(share) {
    var text = (100 * share).toFixed(0) + "%";
    if (text === "0%" && share > 0) return "<1%";
    if (text === "100%" && share < 1) return ">99%";
    return text;
  }

  // Bootstrap stability of segment s of the model's own cut (none for the other ks).
  function stabilityOf(s) {
    if (!DETAILS.stability || state.k !== DATA.k) return null;
    var v = DETAILS.stability[s];
    return v === null || v === undefined ? null : v;
  }

  // ------------------------------------------------------------------ charts (Plotly)

  // Plotly renders a subset of HTML in every label (links, styles, line breaks): text from
  // the data goes through plotText, which escapes it into entities Plotly shows literally.
  function plotText(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&#34;", "'": "&#39;" }[c];
    });
  }

  // Escaped text broken into lines of at most `width` characters at spaces (Plotly's <br>),
  // so that long segment names are shown whole instead of squeezing the chart.
  function plotLines(text, width) {
    var words = String(text).split(/\s+/), lines = [], line = "";
    words.forEach(function (word) {
      while (word.length > width) {
        if (line) { lines.push(line); line = ""; }
        lines.push(word.slice(0, width)); word = word.slice(width);
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += " " + word;
      else { lines.push(line); line = word; }
    });
    if (line || !lines.length) lines.push(line);
    return lines.map(plotText).join("<br>");
  }

  var scatter = null;  // {x, y, index}
  // The mode bar sits above the plot area (titles are padded below it); only the buttons
  // these charts use.
  var PLOT_CONFIG = { displaylogo: false, responsive: true,
    modeBarButtonsToRemove: ["sendDataToCloud", "select2d", "lasso2d", "autoScale2d", "toggleSpikelines",
      "hoverClosestCartesian", "hoverCompareCartesian", "zoomIn2d", "zoomOut2d"] };
  var TITLE_PAD = 34;  // px between the top of a chart and its title: room for the mode bar
  var METRIC_TITLES = {
    wss: "Within-cluster sum of squares (elbow)", silhouette: "Silhouette (higher is better)",
    calinski_harabasz: "Calinski-Harabasz (higher is better)", davies_bouldin: "Davies-Bouldin (lower is better)",
    gap: "Gap statistic", height_jump: "Height jump at the cut", pseudo_t2: "Pseudo-t\u00b2"
  };

  function segLabels(width) {
    var segs = DATA.segments[String(state.k)];
    return segs.names.map(function (name, s) { return plotLines(s + " \u00b7 " + name, width || 1e9); });
  }

  function chartTitle(text, size) {
    return { text: text, font: { size: size || 14 }, x: 0, xref: "paper", xanchor: "left", y: 1, yref: "container",
      yanchor: "top", pad: { t: TITLE_PAD } };
  }

  function renderCharts() {
    if (!state.plotly) return;
    var P = window.Plotly, segs = DATA.segments[String(state.k)], labels = segLabels(28);
    var colours = labels.map(function (_, s) { return segColour(s); });
    var lines = labels.reduce(function (m, l) { return m + l.split("<br>").length; }, 0);
    document.getElementById("sizes-chart").style.height = Math.max(360, 110 + 17 * lines + 8 * state.k) + "px";
    P.react("sizes-chart", [{ type: "bar", x: segs.sizes, y: labels, orientation: "h", marker: { color: colours },
      hovertemplate: "%{y}<br>%{x} rows<extra></extra>" }],
      { title: chartTitle("Segment sizes"), margin: { l: 10, r: 10, t: TITLE_PAD + 36, b: 40 },
        yaxis: { autorange: "reversed", automargin: true }, xaxis: { title: { text: "rows" }, automargin: true } },
      PLOT_CONFIG);
    var z = segs.heatmap, lim = 0.5;
    z.forEach(function (row) { row.forEach(function (v) { if (v !== null && Math.abs(v) > lim) lim = Math.abs(v); }); });
    var heatLabels = segLabels(36);
    P.react("heatmap-chart", [{ type: "heatmap", z: z, x: DATA.heatmap_columns.map(plotText), y: heatLabels,
      zmin: -lim, zmax: lim,
      colorscale: [[0, "#2166ac"], [0.5, "#f7f7f7"], [1, "#b2182b"]], colorbar: { title: { text: "std. diff." } },
      hovertemplate: "%{y}<br>%{x}: %{z:.2f}<extra></extra>" }],
      { margin: { l: 10, r: 10, t: TITLE_PAD, b: 120 }, yaxis: { autorange: "reversed", automargin: true },
        xaxis: { tickangle: -40, automargin: true } }, PLOT_CONFIG);
    // scatter: one trace per segment, so the legend names them
    var seg = T.seg, traces = [];
    var legend = segLabels(40);
    for (var s = 0; s < state.k; s++) traces.push({ type: "scatter", mode: "markers", name: legend[s], x: [], y: [],
      marker: { color: colours[s], size: 5, opacity: 0.75 }, hovertemplate: "%{fullData.name}<extra></extra>" });
    for (var i = 0; i < scatter.index.length; i++) {
      var t = traces[seg[scatter.index[i]]];
      if (t) { t.x.push(scatter.xy[2 * i]); t.y.push(scatter.xy[2 * i + 1]); }
    }
    var ex = DATA.scatter.explained;
    P.react("scatter-chart", traces, { margin: { l: 50, r: 10, t: TITLE_PAD, b: 40 }, legend: { itemsizing: "constant" },
      xaxis: { title: { text: "PC1 (" + (100 * ex[0]).toFixed(1) + "% of variance)" }, zeroline: false },
      yaxis: { title: { text: "PC2 (" + (100 * ex[1]).toFixed(1) + "% of variance)" }, zeroline: false } }, PLOT_CONFIG);
    renderChooseK();
  }

  function renderChooseK() {
    var P = window.Plotly, table = DATA.evaluation.table, holder = document.getElementById("choosek-charts");
    var metrics = Object.keys(METRIC_TITLES).filter(function (m) {
      return table.some(function (row) { return row[m] !== undefined && row[m] !== null; });
    });
    metrics.forEach(function (m) {
      var id = "choosek-" + m, div = document.getElementById(id);
      if (!div) { div = document.createElement("div"); div.id = id; div.className = "chart"; holder.appendChild(div); }
      var ks = [], ys = [];
      table.forEach(function (row) { if (row[m] !== null && row[m] !== undefined) { ks.push(row.k); ys.push(row[m]); } });
      var shapes = [{ type: "line", x0: state.k, x1: state.k, yref: "paper", y0: 0, y1: 1, line: { color: "#c0392b", width: 2 } }];
      var rec = DATA.evaluation.recommended_k;
      if (rec !== null && rec !== undefined) {
        shapes.push({ type: "line", x0: rec, x1: rec, yref: "paper", y0: 0, y1: 1, line: { color: "#555", width: 1, dash: "dot" } });
      }
      P.react(div, [{ type: "scatter", mode: "lines+markers", x: ks, y: ys, line: { color: "#1f77b4" },
        hovertemplate: "k=%{x}: %{y:.4g}<extra></extra>" }],
        { title: chartTitle(METRIC_TITLES[m], 13), margin: { l: 60, r: 10, t: TITLE_PAD + 30, b: 36 }, shapes: shapes,
          xaxis: { title: { text: "k" }, dtick: 1 }, showlegend: false }, PLOT_CONFIG);
    });
  }

  function chartError(message) {
    ["sizes-chart", "heatmap-chart", "scatter-chart", "choosek-charts"].forEach(function (id) {
      document.getElementById(id).innerHTML = "<p class=\"chart-error\">Charts unavailable: " + escapeHtml(message) + "</p>";
    });
  }

  function loadPlotly() {
    var text = document.getElementById("plotly-gz").textContent;
    if (!text.trim()) return Promise.reject(new Error("Plotly was not embedded"));
    if (typeof DecompressionStream === "undefined") return Promise.reject(new Error("this browser lacks DecompressionStream (use a current browser)"));
    return gunzip(text).then(function (buf) {
      mark("plotlyUnzipped");
      var script = document.createElement("script");
      script.textContent = new TextDecoder().decode(buf);
      document.head.appendChild(script);  // runs synchronously: defines window.Plotly
      if (!window.Plotly) throw new Error("Plotly did not load");
    });
  }

  // ------------------------------------------------------------------ static text

  function renderText() {
    var ev = DATA.evaluation;
    var features = DETAILS.clustering_features || DATA.feature_names;
    document.getElementById("headline").textContent = n.toLocaleString() + " rows, " + features.length + " clustering features, " +
      DATA.k + " segments chosen" + (ev.recommended_k ? " (recommended: " + ev.recommended_k + ")" : "") + ".";
    var large = minCount > 1 || n - 1 > MAX_OPEN;
    document.getElementById("tree-note").textContent = large
      ? "Large tree: the view opens with the top clusters expanded (merges of at least " + minCount.toLocaleString() +
        " rows among the last " + MAX_OPEN.toLocaleString() + " merges); triangles are collapsed subtrees with their row counts. Click one to open it."
      : "Click a merge to collapse it into a triangle (click again to expand).";
    var sc = DATA.scatter;
    document.getElementById("scatter-note").textContent = sc.sampled
      ? "Showing a random sample of " + sc.count.toLocaleString() + " of " + n.toLocaleString() + " rows (seed " + sc.seed + "); axes from all rows."
      : "All " + n.toLocaleString() + " rows, projected on the first two principal components of the clustering features.";
    document.getElementById("reasons").innerHTML = ev.reasons.map(function (r) { return "<li>" + escapeHtml(r) + "</li>"; }).join("");
    var how = DETAILS.choice_of_k && DETAILS.choice_of_k.length ? DETAILS.choice_of_k[0] + " " : "";
    document.getElementById("choosek-note").textContent = how + "The criteria below are computed on " +
      (ev.distance || "Euclidean distances") + (ev.min_segment_size ? "; a k whose smallest segment has fewer than " +
      ev.min_segment_size.toLocaleString() + " customers is not a candidate." : ".");
    var listed = function (id, lines) {
      document.getElementById(id).innerHTML = (lines || []).map(function (r) { return "<li>" + escapeHtml(r) + "</li>"; }).join("");
    };
    listed("preparation", DETAILS.preparation && DETAILS.preparation.length ? DETAILS.preparation
      : ["Not recorded: the report was given prepared features."]);
    listed("assignment", DETAILS.assignment);
    var rows = [["Rows", n.toLocaleString()], ["Clustering features", features.length + ": " + features.join(", ")],
      ["Distances", DETAILS.distance || ev.distance || "Euclidean distances"],
      ["Profiled columns", DATA.profiled_columns.join(", ") + (DATA.frame_given ? "" : " (the clustering features)")],
      ["Segments offered (k)", DATA.ks.join(", ")], ["Chosen k", String(DATA.k)],
      ["Recommended k", ev.recommended_k === null || ev.recommended_k === undefined
        ? "none (no k meets the minimum segment size)" : String(ev.recommended_k)]];
    if (DETAILS.clustering_features && DETAILS.clustering_features.join("|") !== DATA.feature_names.join("|")) {
      rows.push(["Features of the pictures", DATA.d + " (one-hot view of the columns, for the PCA and hover profiles)"]);
    }
    if (ev.silhouette_rows) rows.push(["Silhouette computed on", ev.silhouette_rows.toLocaleString() + " rows"]);
    // parameters the rows above already show (the model's, or a caller's) are not repeated
    var shown = { rows: 1, "chosen k": 1, k: 1, segments: 1, n_clusters: 1, hclust: 1, version: 1,
      "made with": 1, features: 1, "clustering features": 1, "recommended k": 1 };
    Object.keys(DATA.params).forEach(function (key) {
      var value = DATA.params[key];
      if (shown[key.toLowerCase()] || value === null || value === undefined) return;
      rows.push([key, Array.isArray(value) ? value.join(", ") : String(value)]);
    });
    rows.push(["Made with", "hclust " + DATA.version]);
    document.querySelector("#summary-table tbody").innerHTML = rows.map(function (r) {
      return "<tr><th>" + escapeHtml(r[0]) + "</th><td>" + escapeHtml(r[1]) + "</td></tr>";
    }).join("");
  }

  // ------------------------------------------------------------------ hooks for tests and scripting

  api.state = function () {
    var rows = document.querySelectorAll("#segment-table tbody tr");
    return {
      k: state.k, n: n, ks: DATA.ks.slice(), drawnNodes: state.drawn, collapsedNodes: state.collapsedDrawn,
      slots: nSlots, tableRows: rows.length,
      tableColours: Array.prototype.map.call(rows, function (r) { return r.getAttribute("data-color"); }),
      sizes: DATA.segments[String(state.k)].sizes.slice(), cutHeight: cutHeight(), plotly: state.plotly,
      plotlyError: state.plotlyError, hover: state.hover, tooltipVisible: !tooltip.hidden,
      view: Object.assign({}, view)
    };
  };
  api.setK = setK;
  api.toggle = toggle;
  api.collapseTop = collapseTop;
  api.nodeIsCollapsed = function (node) { return node >= n && !expanded(node); };
  api.visibleNodes = function () { return visible.slice(); };
  api.segmentOf = function (node) { return T.seg[node]; };
  api.colourOf = function (node) { return segColour(T.seg[node]); };
  // Client (page) coordinates of a node's drawn point, and of the cut line.
  api.nodeClientPos = function (node) {
    var r = canvas.getBoundingClientRect();
    return { x: r.left + sx(T.x[node]), y: r.top + nodeSy(node) };
  };
  api.cutLineClientY = function () { return canvas.getBoundingClientRect().top + sy(cutHeight()); };
  api.clientYForHeight = function (h) { return canvas.getBoundingClientRect().top + sy(h); };
  api.canvasClientRect = function () { var r = canvas.getBoundingClientRect(); return { left: r.left, top: r.top, width: r.width, height: r.height }; };

  // ------------------------------------------------------------------ start

  var t0 = performance.now();
  api.timings = {};
  function mark(name) { api.timings[name] = Math.round(performance.now() - t0); }
  renderText();
  var blocks = [gunzip(DATA.children), gunzip(DATA.heights), gunzip(DATA.scatter.index), gunzip(DATA.scatter.xy)];
  if (DATA.ids) blocks.push(gunzip(DATA.ids));
  Promise.all(blocks)
    .then(function (bufs) {
      mark("decoded");
      if (DATA.ids) ids = JSON.parse(new TextDecoder().decode(bufs[4]));
      buildTree(bufs[0], bufs[1]);
      scatter = { index: new Int32Array(bufs[2]), xy: new Float32Array(bufs[3]) };
      layoutTree();
      resetView();
      colourNodes();
      draw();
      renderTable();
      mark("tree");
      return loadPlotly().then(function () { mark("plotly"); state.plotly = true; renderCharts(); mark("charts"); }, function (err) {
        state.plotlyError = String(err && err.message || err);
        chartError(state.plotlyError);
      });
    })
    .then(function () { readyResolve(api.state()); }, function (err) {
      api.errors.push(String(err));
      document.getElementById("tree-note").textContent = "The report could not start: " + err +
        " (it needs a current browser: Chrome/Edge 80+, Firefox 113+, Safari 16.4+).";
      readyResolve(api.state());
      throw err;
    });
})();
