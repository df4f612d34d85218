// relcrm's few behaviours that need a script; every page also works without it.
document.documentElement.classList.replace("no-js", "js");

document.addEventListener("click", (event) => {
  // Quick due dates fill the date input next to them.
  const pick = event.target.closest("[data-quick-date]");
  if (pick) {
    const input = pick.closest(".due-picker").querySelector("input");
    input.value = pick.dataset.quickDate;
    input.dispatchEvent(new Event("change", { bubbles: true }));
    pick.closest(".quick-picks").querySelectorAll("[data-quick-date]").forEach((chip) => {
      chip.setAttribute("aria-pressed", String(chip === pick));
    });
    return;
  }
  // Add a commitment row from the formset's template (without a script the button posts).
  const add = event.target.closest("[data-add-commitment]");
  if (add) {
    event.preventDefault();
    const total = document.getElementById("id_commitments-TOTAL_FORMS");
    const index = Number(total.value);
    const html = document.getElementById("commitment-template").innerHTML.replaceAll("__prefix__", index);
    document.getElementById("commitment-rows").insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
    document.getElementById(`id_commitments-${index}-description`).focus();
    return;
  }
  const remove = event.target.closest("[data-remove-commitment]");
  if (remove) {
    // An emptied row is skipped by the formset, so removing it needs no renumbering.
    const row = remove.closest("[data-commitment]");
    row.querySelectorAll("input, select").forEach((field) => { field.value = ""; });
    row.hidden = true;
  }
});

document.addEventListener("change", (event) => {
  // A corrected field drops its error.
  if (event.target.getAttribute("aria-invalid") === "true") {
    event.target.removeAttribute("aria-invalid");
    // aria-describedby may also name the field's help text, which stays.
    const described = (event.target.getAttribute("aria-describedby") || "").split(/\s+/);
    described.filter((id) => /[-_]error$/.test(id)).forEach((id) => document.getElementById(id)?.remove());
  }
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`).forEach((box) => {
      box.checked = all.checked;
    });
  }
  if (event.target.matches("input[type=date]")) {
    const picks = event.target.closest(".due-picker")?.querySelectorAll("[data-quick-date]") || [];
    picks.forEach((chip) => chip.setAttribute("aria-pressed", String(chip.dataset.quickDate === event.target.value)));
  }
});

document.addEventListener("keydown", (event) => {
  // Ctrl/Cmd+Enter saves the log form from any field.
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    const form = event.target.closest("form[data-submit-shortcut]");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  }
  // "/" jumps to the quick search, as in most web apps.
  if (event.key === "/" && !event.target.closest("input, textarea, select, [contenteditable]")) {
    const search = document.getElementById("quick-search");
    if (search) {
      event.preventDefault();
      search.focus();
    }
  }
  if (event.key === "Escape" && event.target.id === "quick-search") {
    document.getElementById("search-results").replaceChildren();
  }
});

// An htmx request that failed without a fragment to show (403, 404, 500, offline).
function showToast(text) {
  const toast = document.getElementById("toast");
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => { toast.hidden = true; }, 6000);
}
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const reason = { 403: "You may not do this.", 404: "This no longer exists.", 429: "Too many requests; wait a moment." }[status];
  showToast(reason || `Something went wrong (${status}). Please reload the page.`);
});
document.addEventListener("htmx:sendError", () => showToast("The server could not be reached. Check your connection."));

// After a card or a row is swapped, keep the keyboard where it was: on the first field
// to correct, else on the updated element itself (the button that was pressed is gone).
document.addEventListener("htmx:afterSettle", (event) => {
  const id = event.detail.target && event.detail.target.id;
  const swapped = id && document.getElementById(id);
  if (!swapped || !swapped.matches("[tabindex='-1']")) return;
  const invalid = swapped.querySelector("[aria-invalid='true']");
  (invalid || swapped).focus({ preventScroll: true });
});

// A form sent back with errors puts the cursor on the first field to correct.
document.addEventListener("DOMContentLoaded", () => {
  if (document.querySelector(".form-error")) {
    document.querySelector("main [aria-invalid='true']")?.focus();
  }
});

// Bars sized by their data (a share of a stacked bar, a fraction of a meter). Set from here,
// not in style attributes, which the Content-Security-Policy refuses.
function sizeBars(root) {
  root.querySelectorAll("[data-share]").forEach((segment) => {
    const share = Number(segment.dataset.share);
    if (Number.isFinite(share) && share >= 0) segment.style.flexGrow = String(share);
  });
  root.querySelectorAll("[data-fraction]").forEach((bar) => {
    const fraction = Number(bar.dataset.fraction);
    if (Number.isFinite(fraction)) bar.style.width = `${Math.min(Math.max(fraction, 0), 1) * 100}%`;
  });
}
document.addEventListener("DOMContentLoaded", () => sizeBars(document));
document.addEventListener("htmx:afterSettle", (event) => sizeBars(event.detail.elt));
