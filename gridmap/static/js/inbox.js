/*
 * The inbox page (消息): the signed-in person's items from /api/inbox, unread first; "mark
 * read" per item and for all, keeping the header's unread count in step (Gridmap.setUnread).
 */
(function () {
  "use strict";
  var G = window.Gridmap;
  var S = G.strings;
  if (!G.requireAccount()) return;
  var list = document.getElementById("gi-items");
  var status = document.getElementById("gi-status");
  var markAll = document.getElementById("gi-mark-all");

  function post(path) {
    return G.request(path, { method: "POST" }).then(function (result) {
      if (!result.ok) throw G.errorFrom(result);
      return result.body;
    });
  }

  function say(text) { status.textContent = text; status.hidden = !text; }
  function fail(err) { say(G.reasonOf(err, S.networkError)); }

  function render(items) {
    list.replaceChildren.apply(list, items.map(function (item) {
      var head = G.el("div", "gi-item-head", [
        G.el("strong", "gi-kind", S.kinds[item.kind] || item.kind),
        item.read ? null : G.el("span", "gi-unread", S.unread),
        G.el("time", "gc-time", new Date(item.created_at).toLocaleString(G.config.lang === "en" ? "en" : "zh-CN")),
      ]);
      var actions = [];
      if (item.case_id !== null) {
        var link = G.el("a", "gi-case", S.openCase);
        link.href = G.pageUrl("/cases/" + item.case_id);
        actions.push(link);
      }
      if (!item.read) {
        var button = G.el("button", "gc-button gi-mark", S.markRead);
        button.type = "button";
        button.addEventListener("click", function () {
          post("/inbox/" + item.id + "/read").then(function (body) {
            G.setUnread(body.unread);
            load();
          }).catch(fail);
        });
        actions.push(button);
      }
      var li = G.el("li", item.read ? "gi-item gi-read" : "gi-item", [
        head, G.el("p", "gi-text", G.oneLanguage(item.text)), G.el("div", "gi-actions", actions)]);
      li.dataset.item = String(item.id);
      return li;
    }));
  }

  function load() {
    G.getJSON("/inbox").then(function (body) {
      render(body.items);
      G.setUnread(body.unread);
      say(body.items.length ? "" : S.empty);
      markAll.hidden = body.unread === 0;
    }).catch(fail);
  }

  markAll.addEventListener("click", function () {
    post("/inbox/read").then(function () { G.setUnread(0); load(); }).catch(fail);
  });
  load();
})();
