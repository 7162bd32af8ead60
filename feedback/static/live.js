// "N new ideas - show them": while the front page is open, ask the public API now and then
// whether newer ideas were published, like a chat's "more tweets" bar. The page is complete
// without this script; it only adds the bar.
(function () {
  "use strict";
  var list = document.querySelector("[data-live]");
  if (!list || !window.fetch) return;
  var POLL_MS = (parseFloat(list.getAttribute("data-poll")) || 20) * 1000;
  var endpoint = list.getAttribute("data-live");
  // Follows when ideas were published, so one approved out of order still shows up.
  var since = list.getAttribute("data-since");
  var shown = {};
  Array.prototype.forEach.call(list.querySelectorAll("article.idea"), function (node) {
    shown[node.getAttribute("data-id")] = true;
  });
  var etag = null;
  var waiting = [];
  var bar = document.createElement("button");
  bar.type = "button";
  bar.className = "new-ideas";
  bar.hidden = true;
  bar.setAttribute("aria-live", "polite");
  list.querySelector("h2").insertAdjacentElement("afterend", bar);

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Built with textContent; only body_html, which the server escaped, is set as HTML.
  function article(idea) {
    var node = element("article", "idea idea-new");
    node.id = "idea-" + idea.id;
    if (idea.title) {
      var heading = element("h3");
      var link = element("a", null, idea.title);
      link.href = idea.url;
      heading.appendChild(link);
      node.appendChild(heading);
    }
    var meta = element("p", "meta");
    var author = element(idea.author_url ? "a" : "span", "author", idea.author);
    if (idea.author_url) {
      author.href = idea.author_url;
      author.rel = "nofollow ugc noopener";
    }
    meta.appendChild(author);
    meta.appendChild(document.createTextNode(" in "));
    var topic = element("a", "topic", "#" + idea.topic.slug);
    topic.href = "/topics/" + encodeURIComponent(idea.topic.slug);
    meta.appendChild(topic);
    meta.appendChild(document.createTextNode(" · "));
    var permalink = element("a", "permalink");
    var time = element("time", null, new Date(idea.created).toLocaleDateString());
    time.setAttribute("datetime", idea.created);
    permalink.appendChild(time);
    permalink.href = idea.url;
    meta.appendChild(permalink);
    node.appendChild(meta);
    var body = element("div", "body");
    body.innerHTML = idea.body_html;
    node.appendChild(body);
    var vote = element("p", "vote");
    var open = element("a", null, "+1 it on its page");
    open.href = idea.url;
    vote.appendChild(open);
    node.appendChild(vote);
    return node;
  }

  function show() {
    var anchor = bar;
    waiting.forEach(function (idea) {
      var node = article(idea);
      anchor.insertAdjacentElement("afterend", node);
    });
    waiting = [];
    bar.hidden = true;
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    var url = endpoint + "?since=" + encodeURIComponent(since) + "&limit=100";
    fetch(url, { headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (response.status !== 200) return null;
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        if (!data || !data.ideas.length) return;
        data.ideas.forEach(function (idea) {
          since = idea.published;
          if (shown[idea.id]) return;
          shown[idea.id] = true;
          waiting.push(idea);
        });
        if (!waiting.length) return;
        var n = waiting.length;
        bar.textContent = n + (n === 1 ? " new idea" : " new ideas") + " - show them";
        bar.hidden = false;
      })
      .catch(function () {});
  }

  bar.addEventListener("click", show);
  window.setInterval(poll, POLL_MS);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) poll();
  });
})();
