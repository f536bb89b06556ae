// Asks the assistant for the captions every half second and adds the new ones at the top.
// Only new exchanges are added to the live region, so a screen reader reads each one once.
"use strict";

const POLL_MS = 500;
const list = document.getElementById("exchanges");
const statusLine = document.getElementById("status");
const empty = document.getElementById("empty");

function line(className, label, text) {
  const p = document.createElement("p");
  p.className = className;
  const strong = document.createElement("span");
  strong.className = "label";
  strong.textContent = label + " ";
  p.append(strong, text);
  return p;
}

function item(exchange) {
  const li = document.createElement("li");
  li.className = exchange.urgent ? "exchange urgent" : "exchange";
  li.dataset.number = String(exchange.number);
  if (exchange.heard !== null) {
    li.append(line("heard", "You said:", exchange.heard));
  }
  const label = exchange.urgent ? "URGENT:" : exchange.heard === null ? "Assistant:" : "Answer:";
  li.append(line("answer", label, exchange.answer));
  return li;
}

function show(captions) {
  statusLine.textContent = captions.status || "";
  const kept = new Set(captions.exchanges.map((e) => String(e.number)));
  for (const li of Array.from(list.children)) {
    if (!kept.has(li.dataset.number)) {
      li.remove();
    }
  }
  const shown = new Set(Array.from(list.children, (li) => li.dataset.number));
  for (const exchange of captions.exchanges) {
    if (!shown.has(String(exchange.number))) {
      list.prepend(item(exchange));
    }
  }
  empty.hidden = list.children.length > 0;
}

async function poll() {
  try {
    const response = await fetch("captions.json", { cache: "no-store" });
    if (!response.ok) {
      throw new Error(response.statusText);
    }
    show(await response.json());
  } catch (err) {
    statusLine.textContent = "The assistant is not running.";
  }
  setTimeout(poll, POLL_MS);
}

poll();
