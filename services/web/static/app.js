// A little plain JavaScript; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll("#worklist input[name=case_id]").forEach((box) => { box.checked = all.checked; });
    });
  }
  // Bulk determinations ask once before they go out (each case is still recorded on its own).
  const bulk = document.getElementById("bulk-form");
  if (bulk) {
    bulk.addEventListener("submit", (event) => {
      const chosen = bulk.querySelectorAll("input[name=case_id]:checked").length;
      const action = document.getElementById("bulk-action");
      if (action && action.value !== "take" && chosen > 0 && bulk.dataset.confirmed !== "1") {
        const text = document.documentElement.lang.startsWith("zh")
          ? `对 ${chosen} 件案件执行该操作？` : `Apply this to ${chosen} cases?`;
        if (!window.confirm(text)) event.preventDefault();
      }
    });
  }
});
