// Live Beats browser script: one WebSocket per page for everything live,
// the player bar, owner controls, presence, ping and the upload dialog.
"use strict";

(() => {
  const body = document.body;
  const csrf = body.dataset.csrf;
  const $ = (id) => document.getElementById(id);

  // -- flash messages fade after 8 s --------------------------------------------
  function fadeFlash(element) {
    setTimeout(() => element.classList.add("fade"), 8000);
    setTimeout(() => element.remove(), 9000);
  }
  function showFlash(kind, message) {
    const element = document.createElement("p");
    element.className = `flash flash-${kind}`;
    element.setAttribute("role", "alert");
    element.textContent = message;
    $("flashes").append(element);
    fadeFlash(element);
  }
  document.querySelectorAll(".flash").forEach(fadeFlash);

  const formatTime = (seconds) => {
    const whole = Math.max(0, Math.floor(seconds));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  };

  if (body.dataset.uploadUrl) setUpUpload();
  if (body.dataset.live !== "true") return;

  // -- the live socket ------------------------------------------------------------
  const profileId = body.dataset.profileId ? Number(body.dataset.profileId) : null;
  const isOwner = body.dataset.owner === "true";
  const userId = Number(body.dataset.userId);
  let socket = null;
  let retryDelay = 500;
  let lastRtt = null;
  let listeningProfileId = null;
  let currentSong = null;
  let stateReceived = false;
  // Commands given before the socket is (re)opened are sent once it opens; a
  // ping is not worth keeping, as one goes out on every open.
  const UNSENT_KEPT = 20;
  const unsent = [];

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = profileId ? `?profile=${profileId}` : "";
    socket = new WebSocket(`${scheme}://${location.host}/live${query}`);
    socket.onopen = () => {
      retryDelay = 500;
      $("banner").hidden = true;
      ping();
      for (const message of unsent.splice(0)) socket.send(JSON.stringify(message));
    };
    socket.onmessage = (event) => handle(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (event.code === 4001) { location.assign("/signin"); return; }
      $("banner").hidden = false;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
  }
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    } else if (message.type !== "ping") {
      unsent.push(message);
      if (unsent.length > UNSENT_KEPT) unsent.shift();
    }
  }
  function ping() {
    send({ type: "ping", sent_at: performance.now(), rtt_ms: lastRtt });
  }
  setInterval(ping, 5000);

  function handle(message) {
    switch (message.type) {
      case "state":
        $("ping-region").textContent = message.region;
        $("ping").title = `Connected to ${message.region}; database in ${message.primary_region}`;
        listeningProfileId = message.listening_profile_id;
        updateListenButtons();
        renderActiveUsers(message.active_users);
        loadSong(message.player);
        // After a reconnect or a server resync, events may have been missed.
        if (stateReceived && profileId) refreshSongs();
        stateReceived = true;
        break;
      case "pong":
        if (typeof message.sent_at === "number") lastRtt = Math.round(performance.now() - message.sent_at);
        $("ping-ms").textContent = lastRtt ?? "…";
        $("ping-region").textContent = message.region;
        break;
      case "playback":
        if (message.profile_id === listeningProfileId) loadSong(message.song);
        if (message.profile_id === profileId) markSongs(message.song);
        break;
      case "listening":
        listeningProfileId = message.profile_id;
        updateListenButtons();
        loadSong(message.player);
        break;
      case "listeners": renderListeners(message); break;
      case "active_users": renderActiveUsers(message.users); break;
      case "songs_changed":
      case "songs_deleted":
        if (message.profile_id === profileId) refreshSongs();
        break;
      case "songs_reordered":
        if (message.profile_id === profileId) reorderRows(message.order);
        break;
      case "profile_renamed":
        if (message.profile_id === profileId) location.assign(`/${message.username}`);
        break;
      case "signed_out": location.assign("/signin"); break;
      case "error": showFlash("error", message.message); break;
    }
  }

  // -- player -----------------------------------------------------------------------
  const audio = $("audio");
  function loadSong(song) {
    currentSong = song;
    $("player-controls").hidden = !(song && song.profile_id === userId);
    if (!song) {
      audio.pause();
      audio.removeAttribute("src");
      $("player-title").textContent = "Nothing playing";
      $("player-artist").textContent = "";
      document.title = document.title.replace(/^.* \(Now Playing\)$/, "Live Beats");
      return;
    }
    $("player-title").textContent = song.title;
    $("player-artist").textContent = song.artist;
    const absolute = new URL(song.url, location.href).href;
    if (audio.src !== absolute && !sameSong(audio.src, song.id)) audio.src = song.url;
    audio.currentTime = song.elapsed;
    if (song.status === "playing") {
      document.title = `${song.title} - ${song.artist} (Now Playing)`;
      if ("mediaSession" in navigator) {
        navigator.mediaSession.metadata = new MediaMetadata({ title: song.title, artist: song.artist });
      }
      audio.play().catch((error) => {
        if (error.name === "NotAllowedError") $("autoplay-dialog").showModal();
      });
    } else {
      audio.pause();
    }
    if (song.profile_id === profileId) markSongs(song);
  }
  const sameSong = (src, id) => new RegExp(`/files/${id}\\?`).test(src);
  $("autoplay-listen").addEventListener("click", () => {
    $("autoplay-dialog").close();
    if (currentSong) { audio.currentTime = currentSong.elapsed; audio.play(); }
  });
  audio.addEventListener("timeupdate", () => {
    if (!currentSong) return;
    $("player-progress").value = audio.currentTime / currentSong.duration;
    $("player-time").textContent = `${formatTime(audio.currentTime)} / ${formatTime(currentSong.duration)}`;
  });
  audio.addEventListener("ended", () => {
    const song = currentSong;
    if (!song) return;
    setTimeout(() => send({ type: "ended", song_id: song.id }), Math.random() * 1500);
  });
  $("player-prev").addEventListener("click", () => send({ type: "prev" }));
  $("player-next").addEventListener("click", () => send({ type: "next" }));
  $("player-toggle").addEventListener("click", () => {
    if (currentSong) send({ type: "toggle", song_id: currentSong.id });
  });

  // -- profile page -------------------------------------------------------------------
  function markSongs(song) {
    document.querySelectorAll("#songs tr[data-song-id]").forEach((row) => {
      row.dataset.status = song && Number(row.dataset.songId) === song.id ? song.status : "stopped";
    });
  }
  function updateListenButtons() {
    if (!$("listen")) return;
    const listening = listeningProfileId === profileId;
    $("listen").hidden = listening;
    $("stop-listening").hidden = !listening;
  }
  if ($("listen")) {
    $("listen").addEventListener("click", () => send({ type: "listen", profile_id: profileId }));
    $("stop-listening").addEventListener("click", () => send({ type: "stop_listening" }));
  }
  async function refreshSongs() {
    const response = await fetch(`/${body.dataset.profileUsername}/songs/table`);
    if (response.redirected) { location.assign(response.url); return; }
    if (!response.ok) return;
    $("songs").innerHTML = await response.text();
    const count = $("songs").querySelectorAll("tr[data-song-id]").length;
    $("songs-count").textContent = `${count} song${count === 1 ? "" : "s"}`;
    if (currentSong && currentSong.profile_id === profileId) markSongs(currentSong);
  }
  function reorderRows(order) {
    const tbody = $("songs");
    order.forEach((id) => {
      const row = tbody.querySelector(`tr[data-song-id="${id}"]`);
      if (row) tbody.append(row);
    });
  }
  function badge(user) {
    const item = document.createElement("li");
    item.className = "badge";
    if (user.avatar_url) {
      const image = document.createElement("img");
      image.className = "avatar";
      image.src = user.avatar_url;
      image.alt = "";
      item.append(image);
    }
    const name = document.createElement("span");
    name.textContent = user.username;
    item.append(name);
    if (user.meta && user.meta.ping_ms !== undefined) {
      const detail = document.createElement("small");
      detail.textContent = `${user.meta.ping_ms} ms · ${user.meta.region}`;
      item.append(detail);
    }
    return item;
  }
  function renderListeners(message) {
    if (!$("listeners") || message.profile_id !== profileId) return;
    $("listener-count").textContent = message.count;
    $("listeners").replaceChildren(...message.users.map(badge));
    const more = message.count - message.users.length;
    $("more-listeners").hidden = more <= 0;
    $("more-listeners").querySelector("span").textContent = more;
  }
  function renderActiveUsers(users) {
    const list = $("active-users");
    if (!list) return;
    list.replaceChildren(...users.map((user) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/${user.username}`;
      link.textContent = user.username;
      item.append(link);
      return item;
    }));
  }

  if (isOwner && $("songs")) {
    const tbody = $("songs");
    tbody.addEventListener("click", (event) => {
      const deleteButton = event.target.closest("button.delete");
      const row = event.target.closest("tr[data-song-id]");
      if (deleteButton) {
        if (confirm("Delete this song?")) send({ type: "delete", song_id: Number(deleteButton.dataset.songId) });
      } else if (row) {
        send({ type: "toggle", song_id: Number(row.dataset.songId) });
      }
    });
    let dragged = null;
    tbody.addEventListener("dragstart", (event) => { dragged = event.target.closest("tr[data-song-id]"); });
    tbody.addEventListener("dragover", (event) => event.preventDefault());
    tbody.addEventListener("drop", (event) => {
      event.preventDefault();
      const target = event.target.closest("tr[data-song-id]");
      if (!dragged || !target || target === dragged) return;
      const rows = [...tbody.querySelectorAll("tr[data-song-id]")];
      send({ type: "move", song_id: Number(dragged.dataset.songId), position: rows.indexOf(target) });
      dragged = null;
    });
  }

  connect();

  // -- upload dialog -----------------------------------------------------------------
  function setUpUpload() {
    const input = $("files");
    const list = $("upload-list");
    const saveButton = $("upload-save");
    const errorBox = $("upload-error");
    const maxBatch = Number(body.dataset.maxBatch);
    const maxBytes = Number(body.dataset.maxBytes);
    let entries = [];

    const showError = (message) => { errorBox.textContent = message; errorBox.hidden = !message; };
    const refreshSave = () => {
      saveButton.disabled = !entries.length || entries.some((entry) => !entry.token);
    };

    input.addEventListener("change", () => {
      showError("");
      const files = [...input.files];
      if (files.length > maxBatch) {
        showError(`You can upload at most ${maxBatch} files at a time (you chose ${files.length}).`);
        input.value = "";
        return;
      }
      entries = [];
      list.replaceChildren();
      files.forEach((file) => {
        const entry = { file, token: null, element: uploadRow(file) };
        entries.push(entry);
        list.append(entry.element);
        if (file.size > maxBytes) {
          failEntry(entry, `${file.name} is larger than ${maxBytes / 1048576} MB, the most a song file may be.`);
        } else {
          sendFile(entry);
        }
      });
      refreshSave();
    });

    function uploadRow(file) {
      const item = document.createElement("li");
      item.innerHTML = `<div class="file-name"></div><progress max="100" value="0"></progress>
        <p class="field-error" hidden></p>
        <div class="fields" hidden>
          <label>Title <input name="title" required></label>
          <label>Artist <input name="artist" required></label>
          <label>Attribution <input name="attribution"></label>
        </div>`;
      item.querySelector(".file-name").textContent = file.name;
      return item;
    }
    function failEntry(entry, message) {
      const error = entry.element.querySelector(".field-error");
      error.textContent = message;
      error.hidden = false;
      entries = entries.filter((other) => other !== entry);
      refreshSave();
    }
    function sendFile(entry) {
      const request = new XMLHttpRequest();
      request.open("POST", `${body.dataset.uploadUrl}/uploads?filename=${encodeURIComponent(entry.file.name)}`);
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("Content-Type", "audio/mpeg");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) entry.element.querySelector("progress").value = (100 * event.loaded) / event.total;
      });
      request.addEventListener("load", () => {
        let answer = {};
        try { answer = JSON.parse(request.responseText); } catch (error) { answer = {}; }
        if (request.status !== 200) {
          failEntry(entry, answer.error || `${entry.file.name}: upload failed (${request.status}).`);
          return;
        }
        entry.token = answer.token;
        const fields = entry.element.querySelector(".fields");
        fields.querySelector("[name=title]").value = answer.title;
        fields.querySelector("[name=artist]").value = answer.artist;
        fields.querySelector("[name=attribution]").value = answer.attribution;
        fields.hidden = false;
        refreshSave();
      });
      request.addEventListener("error", () => failEntry(entry, `${entry.file.name}: the upload was interrupted; please try again.`));
      request.send(entry.file);
    }

    $("upload-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      saveButton.disabled = true;
      const songs = entries.map((entry) => ({
        token: entry.token,
        title: entry.element.querySelector("[name=title]").value,
        artist: entry.element.querySelector("[name=artist]").value,
        attribution: entry.element.querySelector("[name=attribution]").value,
      }));
      const response = await fetch(body.dataset.uploadUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ songs }),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) { location.assign(answer.redirect); return; }
      showError(answer.error || `Saving failed (${response.status}).`);
      refreshSave();
    });
  }
})();
