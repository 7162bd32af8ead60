// Keyboard shortcuts for the moderation queue. The page works fully without this script:
// it only clicks the buttons that are already there.
(function () {
  "use strict";
  var keys = { a: "a", r: "r", s: "s" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    var key = keys[event.key];
    if (!key) return;
    var item = target.closest(".queue-item");
    if (!item) return;
    var button = item.querySelector('button[data-shortcut="' + key + '"]');
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
})();
