// RegimenGuard prescribing page: orders read as they are typed (POST /v1/orders:parse), the
// regimen checked after every change (POST /v1/regimens:check), findings shown as cards.
// Plain JavaScript, no build step. Requests are debounced and the latest answer wins.
"use strict";

(function () {
  const DEBOUNCE_MS = 350;
  const $ = (selector, root = document) => root.querySelector(selector);
  const ordersList = $("#orders");
  const template = $("#order-template");
  const verdictBox = $("#verdict");
  const findingsList = $("#findings");
  const acknowledgements = new Map(); // key: ruleId|drugs -> {ruleId, drugs, reason}
  let orderCount = 0;
  let checkTimer = null;
  let checkSeq = 0;

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  async function postJson(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json();
    return { ok: response.ok, data };
  }

  function violations(status) {
    const found = [];
    for (const detail of (status && status.details) || []) {
      if (String(detail["@type"] || "").endsWith("BadRequest")) {
        for (const v of detail.fieldViolations || []) found.push(v);
      }
    }
    return found;
  }

  // --- orders ---------------------------------------------------------------------------

  function addOrder(text) {
    orderCount += 1;
    const n = orderCount;
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.n = String(n);
    const radios = item.querySelectorAll('.mode input[type="radio"]');
    radios.forEach((radio) => { radio.name = `mode-${n}`; });
    const input = $(".sig-text", item);
    input.id = `sig-${n}`;
    $(".sig-label", item).setAttribute("for", input.id);
    $(".sig-label", item).textContent = `Order ${n}`;
    $(".remove", item).setAttribute("aria-label", `Remove order ${n}`);
    item.order = null; // the MedicationOrder JSON once read
    const reading = $(".reading", item);
    const read = debounce(async () => {
      const text = input.value.trim();
      if (!text) {
        item.order = null;
        reading.textContent = "";
        reading.classList.remove("error");
        scheduleCheck();
        return;
      }
      const seq = (item.readSeq = (item.readSeq || 0) + 1);
      const { ok, data } = await postJson("/v1/orders:parse", { text });
      if (seq !== item.readSeq) return; // a newer reading is on its way
      if (ok) {
        item.order = data.order;
        const assumed = (data.assumptions || []).length ? ` (assumed: ${data.assumptions.join("; ")})` : "";
        reading.textContent = `Read as: ${data.reading}${assumed}`;
        reading.classList.remove("error");
      } else {
        item.order = null;
        const problems = violations(data).map((v) => v.description);
        reading.textContent = `Cannot read this order: ${problems.join("; ") || data.message}`;
        reading.classList.add("error");
      }
      scheduleCheck();
    }, DEBOUNCE_MS);
    input.addEventListener("input", read);
    radios.forEach((radio) =>
      radio.addEventListener("change", () => {
        const bySig = radio.value === "sig" && radio.checked;
        $(".sig", item).hidden = !bySig;
        $(".fields", item).hidden = bySig;
        scheduleCheck();
      })
    );
    item.querySelectorAll(".fields input, .fields select").forEach((el) =>
      el.addEventListener("input", scheduleCheck)
    );
    $(".remove", item).addEventListener("click", () => {
      item.remove();
      scheduleCheck();
      $("#add-order").focus();
    });
    ordersList.appendChild(item);
    if (text) {
      input.value = text;
      read();
    }
    input.focus();
    return item;
  }

  function orderOf(item) {
    const bySig = !$(".sig", item).hidden;
    if (bySig) return item.order;
    const drug = $(".f-drug", item).value.trim();
    if (!drug) return null;
    return {
      drug,
      doseMg: Number($(".f-dose", item).value) || 0,
      dosesPerDay: Number($(".f-per-day", item).value) || 0,
      route: $(".f-route", item).value,
      action: $(".f-action", item).value,
      asNeeded: $(".f-prn", item).checked,
    };
  }

  // --- the check ------------------------------------------------------------------------

  function patient() {
    const form = $("#regimen");
    const value = { ageYears: Number($("#age").value) || 0, painDurationWeeks: Number($("#pain-weeks").value) || 0 };
    form.querySelectorAll('.flags input[type="checkbox"]').forEach((box) => {
      if (box.checked) value[box.name] = true;
    });
    return value;
  }

  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, DEBOUNCE_MS);
  }

  async function check() {
    const medications = [...ordersList.children].map(orderOf).filter(Boolean);
    if (!medications.length) {
      setVerdict("", "Add an order to check the regimen.");
      findingsList.replaceChildren();
      $("#totals").hidden = true;
      return;
    }
    const body = { requestId: "page", patient: patient(), medications, acknowledgements: [...acknowledgements.values()] };
    const asOf = $("#as-of").value;
    if (asOf) body.asOf = asOf;
    const seq = ++checkSeq;
    const { ok, data } = await postJson("/v1/regimens:check", body);
    if (seq !== checkSeq) return;
    if (!ok) {
      const problems = violations(data).map((v) => `${v.field}: ${v.description}`);
      setVerdict("error", `Cannot check: ${problems.join("; ") || data.message}`);
      return;
    }
    show(data);
  }

  function setVerdict(kind, text) {
    verdictBox.className = `verdict ${kind}`;
    verdictBox.textContent = text;
    verdictBox.dataset.verdict = kind;
  }

  const VERDICT_WORDS = {
    VERDICT_ACCEPT: ["accept", "ACCEPT: nothing above advice"],
    VERDICT_REVIEW: ["review", "REVIEW: a warning needs the prescriber's review"],
    VERDICT_REJECT: ["reject", "REJECT: must not be dispensed as written"],
  };
  const SEVERITY = { SEVERITY_INFO: "info", SEVERITY_WARNING: "warning", SEVERITY_CRITICAL: "critical" };

  function show(answer) {
    const [kind, words] = VERDICT_WORDS[answer.verdict] || ["", answer.verdict];
    setVerdict(kind, words);
    const summary = answer.summary || {};
    const apap = summary.acetaminophenMgPerDay || 0;
    const limit = summary.acetaminophenLimitMgPerDay || 0;
    const apapBox = $("#total-apap");
    apapBox.textContent = `${fmt(apap)} of ${fmt(limit)} mg/day`;
    apapBox.classList.toggle("over", apap > limit);
    $("#total-mme").textContent = `${fmt(summary.morphineMgEquivalentsPerDay || 0)} MME/day`;
    $("#total-serotonergic").textContent = String(summary.serotonergicAgents || 0);
    $("#totals").hidden = false;
    findingsList.replaceChildren(...(answer.findings || []).map(card));
  }

  function fmt(n) {
    return Math.round(n).toLocaleString("en-US");
  }

  function card(finding) {
    const severity = SEVERITY[finding.severity] || "info";
    const li = document.createElement("li");
    li.className = `finding ${severity}`;
    li.dataset.rule = finding.ruleId;
    const h3 = document.createElement("h3");
    const badge = document.createElement("span");
    badge.className = "severity";
    badge.textContent = severity.toUpperCase();
    h3.append(badge, document.createTextNode(finding.headline || finding.ruleId));
    const message = document.createElement("p");
    message.textContent = finding.message;
    const advice = document.createElement("p");
    advice.textContent = `What to do: ${finding.recommendation}`;
    const source = document.createElement("p");
    source.className = "source";
    source.textContent = `${finding.guidelineSection} · rule ${finding.ruleId}`;
    li.append(h3, message, advice, source);
    if (finding.acknowledged) {
      const done = document.createElement("p");
      done.className = "acknowledged";
      done.textContent = "Acknowledged";
      li.append(done);
    } else if (severity === "warning") {
      li.append(acknowledgeForm(finding));
    }
    return li;
  }

  function acknowledgeForm(finding) {
    const box = document.createElement("div");
    box.className = "ack";
    const id = `ack-${finding.ruleId}-${(finding.drugs || []).join("-")}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = "Reason to accept";
    const reason = document.createElement("input");
    reason.type = "text";
    reason.id = id;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Acknowledge";
    button.setAttribute("aria-label", `Acknowledge: ${finding.headline || finding.ruleId}`);
    button.addEventListener("click", () => {
      const text = reason.value.trim();
      if (!text) {
        reason.setAttribute("aria-invalid", "true");
        reason.focus();
        return;
      }
      const drugs = finding.drugs || [];
      acknowledgements.set(`${finding.ruleId}|${drugs.join(",")}`, { ruleId: finding.ruleId, drugs, reason: text });
      check();
    });
    reason.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        button.click();
      }
    });
    box.append(label, reason, button);
    return box;
  }

  // --- wiring ---------------------------------------------------------------------------

  $("#add-order").addEventListener("click", () => addOrder(""));
  $("#regimen").addEventListener("submit", (event) => event.preventDefault());
  $("#patient").addEventListener("input", scheduleCheck);
  $("#patient").addEventListener("change", scheduleCheck);
  addOrder("");
})();
