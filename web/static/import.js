// tillit console: the import page. Sends the chosen file as it is to the
// API (POST /api/v1/people/import, with the session's cookie) and shows the
// upload's progress, which is the import's: the server imports the file
// as it arrives. Then shows what the import did. Without this script the
// form posts the file to the page instead.
"use strict";

(function () {
  var $ = function (id) { return document.getElementById(id); };

  function start() {
    var form = document.querySelector("form[data-import]");
    if (!form || !window.XMLHttpRequest) return;
    var fileInput = $("f-file"), all = $("f-all_or_nothing"), button = form.querySelector("button[type=submit]");
    var box = $("import-progress-box"), bar = $("import-progress"), status = $("import-status");
    var result = $("import-result");

    function show(res) {
      $("import-summary").textContent = res.imported ?
        result.dataset.created.replace("%d", res.created) : result.dataset.notImported;
      var refused = res.refused || [];
      $("import-refused-count").textContent = refused.length ? result.dataset.refused.replace("%d", refused.length) : "";
      var tbody = $("import-refused").tBodies[0];
      tbody.textContent = "";
      refused.forEach(function (r) {
        var tr = tbody.insertRow();
        tr.insertCell().textContent = String(r.line);
        var field = tr.insertCell();
        if (r.field) {
          var code = document.createElement("code");
          code.textContent = r.field;
          field.appendChild(code);
        }
        tr.insertCell().textContent = r.reason + (r.duplicate ? " (" + result.dataset.duplicate + ")" : "");
      });
      $("import-refused").hidden = refused.length === 0;
      result.hidden = false;
      result.focus();
    }

    function fail(detail) {
      status.textContent = box.dataset.failed + (detail ? " " + detail : "");
      status.className = "error";
    }

    form.addEventListener("submit", function (ev) {
      if (!fileInput.files || fileInput.files.length === 0) return; // the server says what is missing
      ev.preventDefault();
      var file = fileInput.files[0];
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.api + (all.checked ? "?all_or_nothing=true" : ""));
      xhr.setRequestHeader("Content-Type", /\.csv$/i.test(file.name) ? "text/csv" : "application/x-ndjson");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || e.total === 0) return;
        bar.max = e.total;
        bar.value = e.loaded;
        status.textContent = box.dataset.uploading.replace("%d", Math.floor(100 * e.loaded / e.total));
      });
      xhr.upload.addEventListener("load", function () {
        bar.value = bar.max;
        status.textContent = box.dataset.finishing;
      });
      xhr.addEventListener("load", function () {
        button.disabled = false;
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        if (xhr.status === 200 && body) {
          bar.value = bar.max;
          status.textContent = "";
          show(body);
        } else {
          fail(body && body.detail);
        }
      });
      xhr.addEventListener("error", function () { button.disabled = false; fail(""); });
      button.disabled = true;
      result.hidden = true;
      box.hidden = false;
      status.className = "";
      bar.max = 100;
      bar.value = 0;
      xhr.send(file);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
