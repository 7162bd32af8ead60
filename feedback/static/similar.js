// "Similar ideas other readers sent": while a reader writes an idea, ask the public API for
// public ideas like it and list them under the text, each with a "+1 instead" button that
// posts the idea's usual +1 form. The form works the same without this script, and nothing
// here waits on it or touches its submission.
(function () {
  "use strict";
  var form = document.querySelector("form[data-similar]");
  if (!form || !window.fetch || !window.AbortController) return;
  var endpoint = form.getAttribute("data-similar");
  var title = form.querySelector("[name=title]");
  var body = form.querySelector("[name=body]");
  var token = form.querySelector("[name=csrf_token]");
  if (!body) return;
  var PAUSE_MS = 400;
  var MIN_CHARS = 12;
  var MAX_CHARS = 2000;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The region exists, empty, before anything is announced in it.
  var region = element("section", "similar");
  region.id = "similar";
  region.setAttribute("aria-live", "polite");
  region.setAttribute("aria-label", "Similar ideas other readers sent");
  (body.closest(".field") || body).insertAdjacentElement("afterend", region);
  // The +1 forms cannot sit inside the idea form; the buttons point at them with form="...".
  var voteForms = element("div");
  voteForms.hidden = true;
  form.insertAdjacentElement("afterend", voteForms);

  var timer = null;
  var pending = null;
  var asked = "";

  function voteForm(idea) {
    var vote = element("form");
    vote.id = "similar-vote-" + idea.id;
    vote.method = "post";
    vote.action = "/ideas/" + encodeURIComponent(idea.id) + "/vote";
    var fields = { back: "/ideas/" + encodeURIComponent(idea.id) + "#idea-" + idea.id };
    if (token) fields.csrf_token = token.value;
    Object.keys(fields).forEach(function (name) {
      var input = element("input");
      input.type = "hidden";
      input.name = name;
      input.value = fields[name];
      vote.appendChild(input);
    });
    return vote;
  }

  function show(ideas) {
    region.replaceChildren();
    voteForms.replaceChildren();
    if (!ideas.length) return;
    region.appendChild(element("h3", null, "Similar ideas other readers sent"));
    region.appendChild(
      element("p", "hint", "If one of them says what you meant, give it a +1 instead.")
    );
    var list = element("ul");
    ideas.forEach(function (idea) {
      var item = element("li", "vote");
      var link = element("a", null, idea.title);
      link.href = idea.url;
      item.appendChild(link);
      var n = idea.votes;
      item.appendChild(element("span", "votes", n + (n === 1 ? " +1" : " +1s")));
      var vote = voteForm(idea);
      voteForms.appendChild(vote);
      var button = element("button", "plus-one", "+1 instead");
      button.type = "submit";
      button.setAttribute("form", vote.id);
      button.setAttribute("aria-label", "+1 instead for “" + idea.title + "”");
      item.appendChild(button);
      list.appendChild(item);
    });
    region.appendChild(list);
  }

  // Only a public comment's words are sent: a private note's stay in the form (a question
  // travels in a URL, and URLs end up in logs).
  function isPublic() {
    var chosen = form.querySelector("[name=visibility]:checked");
    return chosen !== null && chosen.value === "public";
  }

  function text() {
    if (!isPublic()) return "";
    var words = ((title ? title.value : "") + "\n" + body.value).trim();
    return words.slice(0, MAX_CHARS);
  }

  function ask() {
    var q = text();
    if (q === asked) return;
    asked = q;
    if (pending) pending.abort();
    pending = null;
    if (q.length < MIN_CHARS) {
      show([]);
      return;
    }
    var request = new AbortController();
    pending = request;
    fetch(endpoint + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin",
      signal: request.signal,
    })
      .then(function (response) {
        return response.status === 200 ? response.json() : null;
      })
      .then(function (data) {
        if (pending !== request) return;
        pending = null;
        // A refused question (too many, or text the server will not take) keeps the list.
        if (data) show(data.ideas);
      })
      .catch(function () {});
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, PAUSE_MS);
  }

  body.addEventListener("input", later);
  if (title) title.addEventListener("input", later);
  form.querySelectorAll("[name=visibility]").forEach(function (choice) {
    choice.addEventListener("change", later);
  });
  // A form sent back to fix a field still holds the reader's text.
  if (text().length >= MIN_CHARS) later();
})();
