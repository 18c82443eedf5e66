// The items page: lists, creates, edits and deletes items through the REST API, which is
// on another origin (so every call is a CORS request, with a preflight for the JSON ones).
"use strict";

const query = new URLSearchParams(location.search);
const gateway = query.get("api"); // e.g. http://127.0.0.1:3233/api/<tenant>/store
const webActions = query.get("web"); // e.g. http://127.0.0.1:3233/api/v1/web/<ns>/items

function url(operation, id) {
  const tail = id === undefined ? "" : `/${encodeURIComponent(id)}`;
  return gateway ? `${gateway}/items${tail}` : `${webActions}/${operation}.http${tail}`;
}

const list = document.getElementById("items");
const status = document.getElementById("status");

async function call(method, operation, id, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url(operation, id), options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new Error((data && data.error) || `HTTP ${response.status}`);
  }
  return data;
}

function row(item) {
  const li = document.createElement("li");
  li.dataset.id = item.id;
  li.classList.toggle("done", item.done);
  const done = document.createElement("input");
  done.type = "checkbox";
  done.className = "done";
  done.checked = item.done;
  done.addEventListener("change", () => run(() => call("PUT", "update", item.id, { done: done.checked })));
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = item.name; // text, never HTML: names come from anyone
  const edit = document.createElement("button");
  edit.className = "edit";
  edit.textContent = "Edit";
  edit.addEventListener("click", () => startEditing(li, item));
  const remove = document.createElement("button");
  remove.className = "delete";
  remove.textContent = "Delete";
  remove.addEventListener("click", () => run(() => call("DELETE", "delete", item.id)));
  li.append(done, name, edit, remove);
  return li;
}

function startEditing(li, item) {
  const form = document.createElement("form");
  form.className = "editing";
  const input = document.createElement("input");
  input.className = "new-name";
  input.value = item.name;
  const save = document.createElement("button");
  save.type = "submit";
  save.className = "save";
  save.textContent = "Save";
  form.append(input, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(() => call("PUT", "update", item.id, { name: input.value }));
  });
  li.querySelector(".name").replaceWith(form);
  input.focus();
}

async function refresh() {
  const items = await call("GET", "list");
  list.replaceChildren(...items.map(row));
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

async function run(change) {
  status.textContent = "";
  try {
    await change();
  } catch (error) {
    status.textContent = error.message;
  }
  try {
    await refresh();
  } catch (error) {
    status.textContent = error.message;
  }
}

document.getElementById("new").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("name");
  run(async () => {
    await call("POST", "create", undefined, { name: input.value });
    input.value = "";
  });
});

run(async () => {});
