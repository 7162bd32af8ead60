// Keyboard use of the moderation queue. The page works fully without this script: it only
// moves focus and clicks buttons that are already there.
//   a approve, r reject, s spam (on the focused idea); j / k next / previous idea.
(function () {
  "use strict";
  var shortcuts = { a: "a", r: "r", s: "s" };

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll(".queue-item"));
  }

  // After an action the page comes back with #item-N: put focus on that idea again.
  window.addEventListener("DOMContentLoaded", function () {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.classList.contains("queue-item")) target.focus();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    var item = event.target.closest(".queue-item");
    var list = items();
    if (event.key === "j" || event.key === "k") {
      var at = list.indexOf(item);
      var next = list[event.key === "j" ? at + 1 : Math.max(at - 1, 0)];
      if (next) {
        event.preventDefault();
        next.focus();
      }
      return;
    }
    var key = shortcuts[event.key];
    if (!key || !item) return;
    var button = item.querySelector('button[data-shortcut="' + key + '"]');
    if (!button || button.disabled) return;
    // Come back to the idea after this one, which is where the owner's attention goes next.
    var following = list[list.indexOf(item) + 1];
    var back = document.querySelector('#act-form input[name="back"]');
    if (back && following) back.value = back.value.split("#")[0] + "#" + following.id;
    event.preventDefault();
    button.click();
  });
})();
