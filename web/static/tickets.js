// The new-ticket form: the subcategory list follows the category chosen
// (without JavaScript both lists work as they are: a grouped list).
(function () {
  'use strict';
  function follow(cat, sub) {
    var groups = sub.querySelectorAll('optgroup[data-parent]');
    function apply() {
      var parent = cat.value;
      groups.forEach(function (g) {
        var on = !parent || g.getAttribute('data-parent') === parent;
        g.hidden = !on;
        g.disabled = !on;
      });
      var opt = sub.selectedOptions[0];
      if (opt && opt.parentElement && opt.parentElement.disabled) { sub.value = ''; }
    }
    cat.addEventListener('change', apply);
    apply();
  }
  document.addEventListener('DOMContentLoaded', function () {
    var cat = document.querySelector('[data-category]');
    var sub = document.querySelector('[data-subcategory]');
    if (cat && sub) { follow(cat, sub); }
  });
})();
