// The page's "Contents" button. sphinx-book-theme shows it in the article header, but
// pydata-sphinx-theme wires up only the first ".secondary-toggle" of the page, a hidden one in
// the top bar, so the visible button did nothing. Forward its clicks to the wired one, which
// opens the page's contents as a drawer (book.css folds them into it at every width).
document.addEventListener("DOMContentLoaded", () => {
  const visible = document.querySelector(".bd-header-article .secondary-toggle");
  const wired = document.querySelector(".secondary-toggle");
  if (visible && wired && visible !== wired) {
    visible.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      wired.click();
    });
  }
});
